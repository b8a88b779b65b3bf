#!/usr/bin/env bash
# One-shot (compose's superset-init): metadata DB, admin user, Superset's own roles, then the dashboards
# from superset_assets/ with the serving file's path filled in (the same steps as
# kouiki.services.superset.deploy.bootstrap). The Kouiki roles, row-level security and users come next,
# from superset-security (`kouiki superset configure`). Safe to repeat.
set -euo pipefail

if [[ -z "${KOUIKI_ADMIN_PASSWORD:-}" || "$KOUIKI_ADMIN_PASSWORD" == change-me* \
      || "${SUPERSET_SECRET_KEY:-change-me}" == change-me* ]]; then
    echo "superset-init: KOUIKI_ADMIN_PASSWORD / SUPERSET_SECRET_KEY are placeholders; set them in .env" >&2
    exit 1
fi

superset db upgrade
# Flask reads options from FLASK_<GROUP>_<COMMAND>_<OPTION>: the password stays out of the process list.
output=$(FLASK_FAB_CREATE_ADMIN_PASSWORD="$KOUIKI_ADMIN_PASSWORD" superset fab create-admin --username admin \
           --firstname Kouiki --lastname Admin --email admin@kouiki.invalid 2>&1)
echo "$output"
if grep -q "already exists" <<<"$output"; then
    FLASK_FAB_RESET_PASSWORD_PASSWORD="$KOUIKI_ADMIN_PASSWORD" superset fab reset-password --username admin
fi
superset init

bundle=$(mktemp -d)/bundle
cp -r "${KOUIKI_ASSETS_DIR:-/opt/kouiki/superset_assets}" "$bundle"  # the image's copy; a test gives the checkout's
sed -i "s|{{SERVING_DUCKDB}}|${KOUIKI_SERVING_PATH}|g" "$bundle"/databases/*.yaml
output=$(superset import-directory --overwrite "$bundle" 2>&1) || { echo "$output" >&2; exit 1; }
echo "$output"
# import-directory exits 0 even when the import failed
if grep -Eq 'An error occurred|\bError\b|:ERROR:|Traceback' <<<"$output"; then
    echo "superset-init: importing the dashboards failed" >&2
    exit 1
fi
echo "superset-init: done"
