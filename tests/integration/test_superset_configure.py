"""Compose's ``superset-security`` service applies to its Superset exactly what ``kouiki up`` applies to
the local one: the command it runs (read from docker-compose.yml) is run here against the session's
real Superset, reached only through ``KOUIKI_SUPERSET_URL`` as in a container, after the roles, row-level
security filters, a chart link and a Kouiki user's account have been taken away."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kouiki.config import Settings
from kouiki.identity import users
from kouiki.identity.principal import SECRETARIAT
from kouiki.services import secrets_store
from kouiki.services.superset import api, bundle, deploy, security

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
CHART = "6b6f7569-6b69-4000-8000-000000000053"  # investment by consortium, on a consortium-grained dataset


def is_kouiki_role(name: str) -> bool:
    return name == security.CABINET_ROLE or name.startswith(security.SECRETARIAT_ROLE_PREFIX)


def account_roles(admin: api.ApiClient) -> dict[str, list[str]]:
    return {u["username"]: sorted(r["name"] for r in u["roles"]) for u in admin.all_pages("/api/v1/security/users/")}


def give_back_roles(admin: api.ApiClient, before: dict[str, list[str]]) -> None:
    """Accounts other test modules made outside the Kouiki directory lose their Kouiki roles with the
    roles; `configure` manages only the directory's people, so they get them back here."""
    ids = security.role_ids(admin)
    for account in admin.all_pages("/api/v1/security/users/"):
        wanted = before.get(account["username"])
        if wanted is not None and wanted != sorted(r["name"] for r in account["roles"]):
            admin.request_json(
                "PUT", f"/api/v1/security/users/{account['id']}", json={"roles": [ids[r] for r in wanted]}
            )


def security_state(admin: api.ApiClient, directory: set[str]) -> dict[str, Any]:
    """Roles, filters and the directory's accounts by name (ids change when something is recreated)."""
    roles = {
        role["name"]: sorted(
            f"{p['permission_name']} on {p['view_menu_name']}"
            for p in admin.request_json("GET", f"/api/v1/security/roles/{role['id']}/permissions/")["result"]
        )
        for role in admin.all_pages("/api/v1/security/roles/")
        if is_kouiki_role(role["name"])
    }
    filters = {}
    for listed in admin.all_pages("/api/v1/rowlevelsecurity/"):
        rls = admin.request_json("GET", f"/api/v1/rowlevelsecurity/{listed['id']}")["result"]
        filters[rls["name"]] = {
            "type": rls["filter_type"],
            "clause": rls["clause"],
            "group_key": rls["group_key"],
            "tables": sorted(t["table_name"] for t in rls["tables"]),
            "roles": sorted(r["name"] for r in rls["roles"]),
        }
    accounts = {
        u["username"]: {"active": u["active"], "roles": sorted(r["name"] for r in u["roles"])}
        for u in admin.all_pages("/api/v1/security/users/")
        if u["username"] in directory
    }
    chart = admin.chart(CHART)
    return {
        "roles": roles,
        "filters": filters,
        "accounts": accounts,
        "chart_datasource": json.loads(chart["params"])["datasource"],
    }


def take_security_away(admin: api.ApiClient, username: str) -> None:
    for rls in admin.all_pages("/api/v1/rowlevelsecurity/"):
        admin.request("DELETE", f"/api/v1/rowlevelsecurity/{rls['id']}")
    for role in admin.all_pages("/api/v1/security/roles/"):
        if is_kouiki_role(role["name"]):
            admin.request("DELETE", f"/api/v1/security/roles/{role['id']}")
    (account,) = [u for u in admin.all_pages("/api/v1/security/users/") if u["username"] == username]
    admin.request("DELETE", f"/api/v1/security/users/{account['id']}")
    chart = admin.chart(CHART)
    params = json.loads(chart["params"]) | {"datasource": "0__table"}  # as import-directory leaves it
    admin.request("PUT", f"/api/v1/chart/{chart['id']}", json={"params": json.dumps(params)})


def compose_command() -> tuple[list[str], dict[str, str]]:
    service = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]["superset-security"]
    return [*service["entrypoint"], *service["command"]], service["environment"]


def test_compose_superset_security_applies_what_kouiki_up_applies(
    superset_settings: Settings, superset_admin: api.ApiClient
) -> None:
    settings, admin = superset_settings, superset_admin
    code = security.consortium_codes(settings.serving_path)[0]
    person = users.add_user(settings, "compose-secretariat", SECRETARIAT, [code])
    deploy.configure(settings)  # the step of `kouiki up` (deploy.start) after the server is up
    directory = {u.username for u in users.list_users(settings)}
    by_kouiki_up = security_state(admin, directory)
    assert person.username in by_kouiki_up["accounts"]
    assert by_kouiki_up["roles"] and by_kouiki_up["filters"][security.rls_name(code)]["clause"] == (
        f"consortium_code = '{code}'"
    )
    others = {name: roles for name, roles in account_roles(admin).items() if name not in directory}

    try:
        take_security_away(admin, person.username)
        stripped = security_state(admin, directory)
        assert not stripped["roles"] and not stripped["filters"] and person.username not in stripped["accounts"]

        argv, compose_env = compose_command()
        assert argv == ["kouiki", "superset", "configure"]
        assert compose_env["KOUIKI_SUPERSET_URL"] == "http://superset:8088"  # the compose service, not a local one
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOUIKI_")} | settings.environment()
        env |= {
            "KOUIKI_SUPERSET_URL": admin.url,  # the same server, reached by URL only
            "KOUIKI_SUPERSET_PORT": "1",  # nothing local to fall back on
            "KOUIKI_ADMIN_PASSWORD": secrets_store.admin_password(settings),
        }
        done = subprocess.run(
            [str(Path(sys.executable).with_name(argv[0])), *argv[1:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert admin.url in done.stdout
        assert security_state(admin, directory) == by_kouiki_up
    finally:
        deploy.configure(settings)  # whatever happened above, the session's Superset is as before
        give_back_roles(admin, others)
    assert {name: roles for name, roles in account_roles(admin).items() if name in others} == others
    as_secretariat = api.ApiClient(admin.url)
    as_secretariat.login(person.username, person.password)  # the Kouiki password, checked against the store
    roles = as_secretariat.request_json("GET", "/api/v1/me/roles/")["result"]["roles"]
    assert set(roles) == {"Gamma", security.secretariat_role(code)}


def test_the_after_publish_refresh_reaches_the_superset_the_url_names(
    superset_settings: Settings, superset_admin: api.ApiClient
) -> None:
    """What kouiki_publish runs in Airflow's container: the datasets are touched (so every chart's cache
    key changes) on the Superset at KOUIKI_SUPERSET_URL, with no local Superset port to fall back on."""
    remote = dataclasses.replace(superset_settings, superset_port=1, superset_url=superset_admin.url)
    dataset = superset_admin.id_by_uuid("dataset", "6b6f7569-6b69-4000-8000-000000000016")
    before = superset_admin.request_json("GET", f"/api/v1/dataset/{dataset}")["result"]["changed_on"]
    touched = deploy.refresh_after_publish(remote)
    assert dataset in touched and len(touched) == len(bundle.bundle_uuids("datasets"))
    assert superset_admin.request_json("GET", f"/api/v1/dataset/{dataset}")["result"]["changed_on"] != before
