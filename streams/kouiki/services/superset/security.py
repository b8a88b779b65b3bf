"""Who sees what in Superset: the Cabinet Office role, one secretariat role per consortium with
row-level security, and a deny-by-default filter; applied over the REST API, safe to repeat.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kouiki.config import Settings
from kouiki.identity.principal import CABINET, SECRETARIAT
from kouiki.services.superset.api import ApiClient, admin_client, rison_filter
from kouiki.services.superset.bundle import assets_dir, bundle_datasets
from kouiki.services.superset.process import SupersetError

if TYPE_CHECKING:
    from kouiki.identity.users import UserRecord

# Cabinet Office staff read every dashboard. A secretariat reads only consortium-grained datasets,
# and row-level security limits each of them to its own consortium. A Base filter "1 = 0" on every
# dataset hides all rows from any role not listed on it (Superset applies Base filters to everyone
# except the listed roles, Admin included), so a user without a Kouiki role sees nothing.

CABINET_ROLE = "kouiki_cabinet_office"
SECRETARIAT_ROLE_PREFIX = "secretariat_"
# Roles that hold no data permission themselves; users get one of them plus a Kouiki role.
VIEWER_BASE_ROLE = "Gamma"
DENY_BY_DEFAULT_FILTER = "kouiki_deny_by_default"
CONSORTIUM_COLUMN = "consortium_code"
CONSORTIUM_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}$")
# Prefecture-level aggregates mix consortia, so they stay out of secretariat roles.
CABINET_ONLY_DATASETS = frozenset(
    {
        "6b6f7569-6b69-4000-8000-000000000011",  # mart_prefecture_summary
        "6b6f7569-6b69-4000-8000-000000000012",  # fct_investment (secretariats get rpt_investment_lines)
        "6b6f7569-6b69-4000-8000-000000000014",  # region_block_summary
        "6b6f7569-6b69-4000-8000-00000000001c",  # stuck_partitions (the lander's, no consortium to filter by)
    }
)


def secretariat_role(consortium_code: str) -> str:
    return f"{SECRETARIAT_ROLE_PREFIX}{consortium_code}"


def consortium_codes(serving_path: Path) -> list[str]:
    """Registered consortia in the serving file (dim_consortium, else the registry's latest view)."""
    import duckdb  # the platform venv has it; imported lazily so the CLI starts fast

    if not serving_path.exists():
        return []
    with duckdb.connect(str(serving_path), read_only=True) as con:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.sql("select table_schema, table_name from information_schema.tables").fetchall()
        }
        source = next((t for t in ("marts.dim_consortium", "intermediate.int_consortia_latest") if t in tables), None)
        if source is None:
            return []
        query = f"select distinct consortium_code from {source} order by 1"  # noqa: S608 - source is one of two constants
        codes = [str(row[0]) for row in con.sql(query).fetchall()]
    bad = [c for c in codes if not CONSORTIUM_CODE.match(c)]
    if bad:  # the code ends up inside an SQL clause
        raise SupersetError(f"consortium codes unusable in a row-level security clause: {bad}")
    return codes


def role_ids(client: ApiClient) -> dict[str, int]:
    return {r["name"]: int(r["id"]) for r in client.all_pages("/api/v1/security/roles/")}


def ensure_role(client: ApiClient, name: str, existing: dict[str, int] | None = None) -> int:
    known = existing if existing is not None else role_ids(client)
    if name in known:
        return known[name]
    role_id = int(client.request_json("POST", "/api/v1/security/roles/", json={"name": name})["id"])
    known[name] = role_id
    return role_id


def datasource_access_ids(client: ApiClient, dataset_ids: Iterable[int]) -> list[int]:
    """Permission-view ids of ``datasource_access`` on the given datasets."""
    wanted = {f"(id:{i})" for i in dataset_ids}
    found = [
        int(pv["id"])
        for pv in client.all_pages("/api/v1/security/permissions-resources/")
        if pv["permission"]["name"] == "datasource_access" and any(pv["view_menu"]["name"].endswith(w) for w in wanted)
    ]
    if len(found) != len(wanted):
        raise SupersetError(f"datasource_access missing for some of the datasets {sorted(wanted)}")
    return found


def set_role_permissions(client: ApiClient, role_id: int, permission_view_ids: list[int]) -> None:
    """Replace the role's permissions (the API does not add)."""
    client.request_json(
        "POST",
        f"/api/v1/security/roles/{role_id}/permissions",
        json={"permission_view_menu_ids": sorted(permission_view_ids)},
    )


def upsert_rls(
    client: ApiClient,
    name: str,
    filter_type: str,
    tables: list[int],
    roles: list[int],
    clause: str,
    group_key: str = "",
) -> int:
    """Create or fully replace one RLS filter (a partial PUT would clear its tables)."""
    body = {
        "name": name,
        "filter_type": filter_type,
        "tables": sorted(tables),
        "roles": sorted(roles),
        "clause": clause,
        "group_key": group_key,
        "description": "managed by kouiki.services.superset.security",
    }
    found = client.request_json("GET", "/api/v1/rowlevelsecurity/", params={"q": rison_filter("name", name)})["result"]
    if found:
        client.request_json("PUT", f"/api/v1/rowlevelsecurity/{found[0]['id']}", json=body)
        return int(found[0]["id"])
    return int(client.request_json("POST", "/api/v1/rowlevelsecurity/", json=body)["id"])


def ensure_user(client: ApiClient, username: str, password: str, roles: list[str]) -> int:
    """Create the user, or reset its roles and password; returns its id."""
    known = role_ids(client)
    wanted = [known[r] for r in roles]
    found = client.request_json("GET", "/api/v1/security/users/", params={"q": rison_filter("username", username)})[
        "result"
    ]
    body = {
        "first_name": username,
        "last_name": "kouiki",
        "username": username,
        "password": password,
        "email": f"{username}@kouiki.invalid",
        "active": True,
        "roles": wanted,
    }
    if found:
        client.request_json("PUT", f"/api/v1/security/users/{found[0]['id']}", json=body)
        return int(found[0]["id"])
    return int(client.request_json("POST", "/api/v1/security/users/", json=body)["id"])


def _user_body(username: str, role_ids_: list[int], active: bool) -> dict[str, Any]:
    return {
        "first_name": username,
        "last_name": "kouiki",
        "username": username,
        "email": f"{username}@kouiki.invalid",
        "active": active,
        "roles": role_ids_,
    }


def superset_roles(user: UserRecord) -> list[str] | None:
    """The Superset roles of a Kouiki user; None for a user without a Superset account (operators use
    the platform's admin login)."""
    if user.kind == CABINET:
        return [VIEWER_BASE_ROLE, CABINET_ROLE]
    if user.kind == SECRETARIAT:
        return [VIEWER_BASE_ROLE, *(secretariat_role(code) for code in user.consortia)]
    return None


def sync_users(client: ApiClient, people: Iterable[UserRecord]) -> dict[str, int]:
    """One Superset account per Cabinet Office and secretariat user of the Kouiki store: created or
    updated with their roles, deactivated once revoked; the ids by username. Safe to repeat.

    Superset checks their password against the Kouiki store (``infra/superset/kouiki_login.py``), so
    the account's own password is random, never stored or shown: Superset's table cannot log them in."""
    known = role_ids(client)
    existing = {u["username"]: u for u in client.all_pages("/api/v1/security/users/")}
    synced: dict[str, int] = {}
    for person in people:
        roles = superset_roles(person)
        if roles is None:
            continue
        if person.username in existing:
            found = existing[person.username]
            body = _user_body(person.username, [ensure_role(client, r, known) for r in roles], person.active)
            client.request_json("PUT", f"/api/v1/security/users/{found['id']}", json=body)
            synced[person.username] = int(found["id"])
        elif person.active:
            body = _user_body(person.username, [ensure_role(client, r, known) for r in roles], True)
            body["password"] = secrets.token_urlsafe(32)
            synced[person.username] = int(client.request_json("POST", "/api/v1/security/users/", json=body)["id"])
    return synced


def rls_name(consortium_code: str) -> str:
    return f"kouiki_consortium_{consortium_code}"


def apply_roles(
    client: ApiClient, consortia: list[str], bundle: list[dict[str, Any]], only_new: bool = False
) -> dict[str, Any]:
    """The Cabinet Office role, one secretariat role with its RLS filter per consortium, and the
    deny-by-default Base filter, for the datasets of ``bundle``.

    ``only_new`` (after each publish) sets up only the consortia without their role and filter yet:
    three API calls per consortium add up to seconds at national scale, on every report's way to
    the dashboards, while the datasets and clauses change only with the bundle, which ``start``
    applies in full. A consortium left half set up stays hidden (the Base filter) until it is done.
    """
    known = role_ids(client)
    todo = consortia
    if only_new:
        filters = {f["name"] for f in client.all_pages("/api/v1/rowlevelsecurity/")}
        todo = [c for c in consortia if secretariat_role(c) not in known or rls_name(c) not in filters]
        if not todo:
            return {"cabinet_role": known.get(CABINET_ROLE), "secretariat_roles": {}}
    datasets = [d | {"id": client.id_by_uuid("dataset", d["uuid"])} for d in bundle]
    cabinet = ensure_role(client, CABINET_ROLE, known)
    if not only_new:
        set_role_permissions(client, cabinet, datasource_access_ids(client, [d["id"] for d in datasets]))
    secretariat_datasets = [d for d in datasets if d["uuid"] not in CABINET_ONLY_DATASETS]
    secretariat_perms = datasource_access_ids(client, [d["id"] for d in secretariat_datasets])
    with_consortium = [d["id"] for d in datasets if CONSORTIUM_COLUMN in d["columns"]]
    secretariats = {}
    for code in todo:
        role_id = ensure_role(client, secretariat_role(code), known)
        set_role_permissions(client, role_id, secretariat_perms)
        upsert_rls(
            client,
            rls_name(code),
            "Regular",
            with_consortium,
            [role_id],
            f"{CONSORTIUM_COLUMN} = '{code}'",
            group_key=CONSORTIUM_COLUMN,
        )
        secretariats[code] = role_id
    every_secretariat = [known[secretariat_role(c)] for c in consortia if secretariat_role(c) in known]
    exempt = [known["Admin"], cabinet, *every_secretariat]
    upsert_rls(client, DENY_BY_DEFAULT_FILTER, "Base", [d["id"] for d in datasets], exempt, "1 = 0")
    return {"cabinet_role": cabinet, "secretariat_roles": secretariats}


def apply_security(settings: Settings, only_new: bool = False) -> dict[str, Any]:
    """Create or update the Kouiki roles and row-level security filters for the consortia in the
    serving file (``only_new``: those not set up yet, see ``apply_roles``), and the Superset accounts
    of the Kouiki store's people; safe to repeat."""
    from kouiki.identity.users import list_users  # SQLAlchemy: not at DAG parse time

    client = admin_client(settings)
    applied = apply_roles(
        client,
        consortium_codes(settings.serving_path),
        bundle_datasets(assets_dir(settings.project_root)),
        only_new=only_new,
    )
    applied["users"] = sync_users(client, list_users(settings))
    return applied
