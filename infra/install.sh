#!/usr/bin/env bash
# Create the three virtual environments from the committed lock files (idempotent, ~1 min cold).
#   .venv           Airflow + the kouiki package + dev/test tools
#   .venv-dbt       dbt-core + dbt-duckdb + sqlfluff
#   .venv-superset  Superset + duckdb-engine
# Airflow and Superset cannot share one environment (SQLAlchemy 2 vs 1.4), and dbt pins
# protobuf/pathspec below what Airflow wants, so each gets its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${KOUIKI_PYTHON:-python3}
UV_VERSION=0.13.9

if [ ! -x .venv-uv/bin/uv ] || [ "$(.venv-uv/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    "$PY" -m venv .venv-uv
    .venv-uv/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
UV=$PWD/.venv-uv/bin/uv
export UV_LINK_MODE=copy
# Compile every module to bytecode once here: where PYTHONDONTWRITEBYTECODE is set (as on CI),
# Python would otherwise compile each imported module from source in every process, seconds per
# command for Airflow, Superset and kafka-python.
export UV_COMPILE_BYTECODE=1

sync_venv() {  # name lockfile
    local venv=$1 lock=$2 stamp="$1/.kouiki-lock.sha256"
    local want; want="$(sha256sum "$lock" | cut -d' ' -f1) bytecode"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    [ -x "$venv/bin/python" ] || "$UV" venv --quiet --python "$PY" "$venv"
    VIRTUAL_ENV=$PWD/$venv "$UV" pip sync --quiet "$lock"
    echo "$want" > "$stamp"
}

sync_venv .venv requirements/platform.lock.txt &
sync_venv .venv-dbt requirements/dbt.lock.txt &
sync_venv .venv-superset requirements/superset.lock.txt &
wait %1 && wait %2 && wait %3
.venv-superset/bin/python infra/superset/fix_ja_catalog.py 2>/dev/null
# the kouiki package itself, editable, without touching the locked dependencies
VIRTUAL_ENV=$PWD/.venv "$UV" pip install --quiet --no-deps -e .
.venv/bin/python -m compileall -q streams dags  # stale files are recompiled in memory, never used
echo "install: .venv .venv-dbt .venv-superset ready"
