#!/usr/bin/env bash
# One-shot (compose's postgres-init): one database and one login role per service — Airflow's metadata,
# Superset's metadata, Kouiki's identity store — each owned by its role, closed to every other role.
# Passwords come from the environment and reach psql through \getenv, never a command line. Safe to
# repeat: an existing role gets the password .env holds now, an existing database is left as it is.
#
#   PGHOST, PGUSER, PGPASSWORD   the server and its superuser (the postgres service's own)
#   KOUIKI_DATABASES             "role:database:PASSWORD_VARIABLE ..." e.g. "airflow:airflow:AIRFLOW_DB_PASSWORD"
set -euo pipefail

specs=${KOUIKI_DATABASES:?"role:database:PASSWORD_VARIABLE ..."}
for spec in $specs; do  # every password first: nothing is created while one is missing
    IFS=: read -r _ _ variable <<<"$spec"
    password=${!variable:-}
    if [[ -z "$password" || "$password" == change-me* ]]; then
        echo "postgres-init: $variable is empty or still the .env.example placeholder; set it in .env" >&2
        exit 1
    fi
done

for spec in $specs; do
    IFS=: read -r role database variable <<<"$spec"
    KOUIKI_DB_PASSWORD="${!variable}" psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 \
        --set role="$role" --set database="$database" --dbname postgres <<'SQL'
\getenv password KOUIKI_DB_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'database', :'role', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database') \gexec
SELECT format('GRANT ALL ON DATABASE %I TO %I', :'database', :'role') \gexec
SQL
    echo "postgres-init: $database (owner $role) ready"
done
