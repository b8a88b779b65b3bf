#!/usr/bin/env bash
# One-shot (compose's airflow-init): refuse placeholder secrets and an unusable Fernet key, migrate the
# metadata DB (Airflow's and the FAB auth manager's tables), create the DuckDB pool, and create the FAB
# admin or set its password to the one in .env. Safe to run again (docker compose up re-runs it).
set -euo pipefail

for name in KOUIKI_ADMIN_PASSWORD AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY AIRFLOW__CORE__FERNET_KEY; do
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
# A malformed key fails every later encryption; an empty one would store connection passwords in clear.
python -c 'from airflow.models.crypto import get_fernet; assert get_fernet().is_encrypted' \
    || { echo "airflow-init: AIRFLOW_FERNET_KEY is not a Fernet key (32 url-safe base64 bytes)" >&2; exit 1; }

airflow db migrate
airflow pools set kouiki_duckdb 1 "dbt build and publish: one DuckDB writer"
# The password reaches the prompt on stdin (no terminal here), never a command line.
password_twice() { printf '%s\n%s\n' "$KOUIKI_ADMIN_PASSWORD" "$KOUIKI_ADMIN_PASSWORD"; }
output=$(password_twice | airflow users create --username admin --role Admin \
           --firstname Kouiki --lastname Admin --email admin@kouiki.invalid 2>&1)
echo "$output"
if grep -q "already exist" <<<"$output"; then  # create leaves an existing user's password as it was
    password_twice | airflow users reset-password --username admin
fi
mkdir -p "$KOUIKI_DATA_DIR/run"
echo "airflow-init: done"
