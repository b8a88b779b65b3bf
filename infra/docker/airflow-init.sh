#!/usr/bin/env bash
# One-shot: refuse placeholder secrets, migrate the metadata DB, create the DuckDB pool and pin the
# admin password of the Simple auth manager. Safe to run again (docker compose up re-runs it).
set -euo pipefail

for name in KOUIKI_ADMIN_PASSWORD AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY; do
    value=${!name:-}
    if [[ -z "$value" || "$value" == change-me* ]]; then
        echo "airflow-init: $name is empty or still the .env.example placeholder; set it in .env" >&2
        exit 1
    fi
done
if (( ${#AIRFLOW__API_AUTH__JWT_SECRET} < 64 )); then
    echo "airflow-init: AIRFLOW_JWT_SECRET must be at least 64 characters" >&2
    exit 1
fi

airflow db migrate
airflow pools set kouiki_duckdb 1 "dbt build and publish: one DuckDB writer"
umask 077
printf '{"admin": "%s"}\n' "$KOUIKI_ADMIN_PASSWORD" > "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
mkdir -p "$KOUIKI_DATA_DIR/run"
echo "airflow-init: done"
