"""Bootstrap, run and query the local Superset (its own virtualenv, driven over CLI and HTTP).

Superset is never imported here: its dependency set conflicts with the platform's, so it runs
from ``.venv-superset`` as subprocesses and is reached over its REST API.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import requests
import yaml

from kouiki import procs, secrets_store
from kouiki.config import REPO_ROOT, Settings, venv_bin

SERVICE = "superset"
HOST = "127.0.0.1"
DEFAULT_PORT = 8088
ADMIN_USERNAME = secrets_store.ADMIN_USERNAME
DASHBOARD_SLUG = "kouiki-overview"
ASSETS_DIR = REPO_ROOT / "superset_assets"
CONFIG_PATH = REPO_ROOT / "infra" / "superset" / "superset_config.py"
SERVING_PLACEHOLDER = "{{SERVING_DUCKDB}}"
START_TIMEOUT_S = 120.0
CLI_TIMEOUT_S = 600.0
LOG_TAIL_LINES = 40
# import-directory exits 0 even when the import failed, so its output has to be read.
IMPORT_FAILURE = re.compile(r"An error occurred|\bError\b|:ERROR:|Traceback")
# Warnings are not failures: before the first publish there is no serving file, and Superset warns
# that it cannot inspect the database while importing datasets that will exist.


class SupersetError(procs.ServiceError):
    """Superset could not be bootstrapped, started or queried."""


# --- paths, secrets and environment -------------------------------------------------------------


def superset_home(settings: Settings) -> Path:
    """Metadata DB, cache and generated secrets; lives with the other run-time state."""
    return settings.run_dir / "superset"


def port() -> int:
    return int(os.environ.get("KOUIKI_SUPERSET_PORT", str(DEFAULT_PORT)))


def base_url() -> str:
    return f"http://{HOST}:{port()}"


def secret_key(settings: Settings) -> str:
    return secrets_store.stored_secret(settings, "superset_secret_key", "SUPERSET_SECRET_KEY", nbytes=42)


def credentials(settings: Settings) -> tuple[str, str]:
    """Admin login; the password is never a default one."""
    return ADMIN_USERNAME, secrets_store.admin_password(settings)


def data_cache_dir(settings: Settings) -> Path:
    """Chart result cache; must match DATA_CACHE_CONFIG in infra/superset/superset_config.py."""
    return superset_home(settings) / "cache" / "data"


def superset_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SUPERSET_CONFIG_PATH=str(CONFIG_PATH),
        SUPERSET_SECRET_KEY=secret_key(settings),
        KOUIKI_SUPERSET_HOME=str(superset_home(settings)),
        # asset YAML is Japanese text and Superset opens it with the locale's encoding
        PYTHONUTF8="1",
    )
    return env


# --- bootstrap ----------------------------------------------------------------------------------


def _log_tail(text: str) -> str:
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:])


def run_cli(settings: Settings, args: list[str], extra_env: Mapping[str, str] | None = None) -> str:
    """Run one ``superset`` CLI command; append its output to run/logs/superset-cli.log and return it."""
    home = superset_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)  # metadata DB holds password hashes and the cache holds query results
    env = superset_env(settings)
    env.update(extra_env or {})
    proc = subprocess.run([str(venv_bin(".venv-superset", "superset")), *args], env=env, cwd=home,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
    output = proc.stdout + proc.stderr
    log = procs.log_file(settings.run_dir, "superset-cli")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as f:
        f.write(f"$ superset {' '.join(args)}\n{output}\n")
    if proc.returncode != 0:
        raise SupersetError(f"superset {args[0]} failed (exit {proc.returncode}):\n{_log_tail(output)}")
    return output


def ensure_admin(settings: Settings) -> None:
    """Create the admin user, or reset its password to the current one if it already exists."""
    username, password = credentials(settings)
    # Flask's CLI reads options from FLASK_<GROUP>_<COMMAND>_<OPTION>, which keeps the password out of
    # the process list.
    output = run_cli(settings, ["fab", "create-admin", "--username", username, "--firstname", "Kouiki",
                                "--lastname", "Admin", "--email", "admin@kouiki.invalid"],
                     {"FLASK_FAB_CREATE_ADMIN_PASSWORD": password})
    if "already exists" in output:
        run_cli(settings, ["fab", "reset-password", "--username", username],
                {"FLASK_FAB_RESET_PASSWORD_PASSWORD": password})


def render_assets(target: Path, serving_path: Path) -> Path:
    """Copy the committed bundle to ``target`` with the serving DuckDB path filled in."""
    if any(c in str(serving_path) for c in "?#"):
        raise SupersetError(f"serving path cannot be used in a database URI: {serving_path}")
    bundle = target / "bundle"
    shutil.copytree(ASSETS_DIR, bundle)
    for path in (bundle / "databases").glob("*.yaml"):
        database = yaml.safe_load(path.read_text(encoding="utf-8"))
        uri = str(database["sqlalchemy_uri"])
        database["sqlalchemy_uri"] = uri.replace(SERVING_PLACEHOLDER, str(serving_path))
        path.write_text(yaml.safe_dump(database, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return bundle


def import_assets(settings: Settings) -> None:
    """Create or update the database, datasets, charts and dashboards from superset_assets/."""
    with tempfile.TemporaryDirectory(prefix="kouiki-superset-assets-") as tmp:
        bundle = render_assets(Path(tmp), settings.serving_path)
        output = run_cli(settings, ["import-directory", "--overwrite", str(bundle)])
    problems = [line for line in output.splitlines() if ":WARNING:" not in line and IMPORT_FAILURE.search(line)]
    if problems:
        raise SupersetError(f"importing {ASSETS_DIR} failed:\n{_log_tail(output)}")
    if is_running(settings):
        admin_client(settings).link_charts_to_datasets()


def bootstrap(settings: Settings) -> None:
    """Bring the metadata DB, admin user, roles and assets up to date; safe to repeat.

    Roles and row-level security go through the REST API, so they are applied here when Superset is
    already running and otherwise by ``start``.
    """
    run_cli(settings, ["db", "upgrade"])
    ensure_admin(settings)
    run_cli(settings, ["init"])
    import_assets(settings)
    if is_running(settings):
        apply_security(settings)


# --- server -------------------------------------------------------------------------------------


def is_running(settings: Settings) -> bool:
    return procs.read_pid(settings.run_dir, SERVICE) is not None


def is_healthy(url: str) -> bool:
    try:
        response = requests.get(f"{url}/health", timeout=2)
    except requests.RequestException:
        return False
    return response.status_code == 200 and response.text.strip() == "OK"


def _server_log_tail(settings: Settings) -> str:
    try:
        return _log_tail(procs.log_file(settings.run_dir, SERVICE).read_text(errors="replace"))
    except FileNotFoundError:
        return ""


def wait_until_healthy(settings: Settings, url: str, pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not is_healthy(url):
        if not procs.is_alive(pid):
            raise SupersetError(f"Superset exited during start-up:\n{_server_log_tail(settings)}")
        if time.monotonic() > deadline:
            raise SupersetError(f"Superset not healthy after {timeout:.0f} s:\n{_server_log_tail(settings)}")
        time.sleep(0.5)


def start(settings: Settings, timeout: float = START_TIMEOUT_S) -> str:
    """Start gunicorn serving Superset on 127.0.0.1 (if not already running); return its URL."""
    url = base_url()
    if not is_running(settings):
        if procs.port_in_use(HOST, port()):
            raise SupersetError(f"port {port()} is taken by another process (set KOUIKI_SUPERSET_PORT)")
        # results cached before a restart may come from a serving file replaced while Superset was down
        shutil.rmtree(data_cache_dir(settings), ignore_errors=True)
    argv = [str(venv_bin(".venv-superset", "gunicorn")), "-w", "2", "-k", "gthread", "--threads", "4",
            "--timeout", "120", "-b", f"{HOST}:{port()}", "superset.app:create_app()"]
    pid = procs.start(settings.run_dir, SERVICE, argv, superset_env(settings), cwd=superset_home(settings))
    try:
        wait_until_healthy(settings, url, pid, timeout)
    except SupersetError:
        procs.stop(settings.run_dir, SERVICE)
        raise
    admin_client(settings).link_charts_to_datasets()
    apply_security(settings)
    return url


def stop(settings: Settings) -> bool:
    return procs.stop(settings.run_dir, SERVICE, timeout=30.0)


# --- security: roles and row-level security -----------------------------------------------------
#
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
CABINET_ONLY_DATASETS = frozenset({
    "6b6f7569-6b69-4000-8000-000000000011",  # mart_prefecture_summary
    "6b6f7569-6b69-4000-8000-000000000012",  # fct_investment (secretariats get rpt_investment_lines)
    "6b6f7569-6b69-4000-8000-000000000014",  # region_block_summary
})


def secretariat_role(consortium_code: str) -> str:
    return f"{SECRETARIAT_ROLE_PREFIX}{consortium_code}"


def consortium_codes(serving_path: Path) -> list[str]:
    """Registered consortia in the serving file (dim_consortium, else the registry's latest view)."""
    import duckdb  # the platform venv has it; imported lazily so the CLI starts fast

    if not serving_path.exists():
        return []
    with duckdb.connect(str(serving_path), read_only=True) as con:
        tables = {f"{schema}.{name}" for schema, name in con.sql(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        source = next((t for t in ("marts.dim_consortium", "intermediate.int_consortia_latest") if t in tables), None)
        if source is None:
            return []
        query = f"select distinct consortium_code from {source} order by 1"  # noqa: S608 - source is one of two constants
        codes = [str(row[0]) for row in con.sql(query).fetchall()]
    bad = [c for c in codes if not CONSORTIUM_CODE.match(c)]
    if bad:  # the code ends up inside an SQL clause
        raise SupersetError(f"consortium codes unusable in a row-level security clause: {bad}")
    return codes


def bundle_datasets() -> list[dict[str, Any]]:
    """uuid, table_name and column names of every committed dataset."""
    datasets = []
    for path in sorted((ASSETS_DIR / "datasets").rglob("*.yaml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        datasets.append({"uuid": str(config["uuid"]), "table_name": config["table_name"],
                         "columns": [c["column_name"] for c in config.get("columns") or []]})
    return datasets


def apply_security(settings: Settings) -> dict[str, Any]:
    """Create or update the Kouiki roles and row-level security filters; safe to repeat."""
    client = admin_client(settings)
    return client.apply_security(consortium_codes(settings.serving_path))


class _SecurityMixin:
    """REST calls for roles, permissions, users and RLS filters (FAB and Superset security APIs)."""

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError

    def id_by_uuid(self, resource: str, uuid: str) -> int:
        raise NotImplementedError

    def _all(self, path: str, page_size: int = 100) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 0
        while True:
            batch = self._json("GET", path, params={"q": f"(page:{page},page_size:{page_size})"})["result"]
            rows.extend(batch)
            if len(batch) < page_size:
                return rows
            page += 1

    def roles(self) -> dict[str, int]:
        return {r["name"]: int(r["id"]) for r in self._all("/api/v1/security/roles/")}

    def ensure_role(self, name: str, existing: dict[str, int] | None = None) -> int:
        known = existing if existing is not None else self.roles()
        if name in known:
            return known[name]
        role_id = int(self._json("POST", "/api/v1/security/roles/", json={"name": name})["id"])
        known[name] = role_id
        return role_id

    def datasource_access_ids(self, dataset_ids: Iterable[int]) -> list[int]:
        """Permission-view ids of ``datasource_access`` on the given datasets."""
        wanted = {f"(id:{i})" for i in dataset_ids}
        found = [int(pv["id"]) for pv in self._all("/api/v1/security/permissions-resources/")
                 if pv["permission"]["name"] == "datasource_access"
                 and any(pv["view_menu"]["name"].endswith(w) for w in wanted)]
        if len(found) != len(wanted):
            raise SupersetError(f"datasource_access missing for some of the datasets {sorted(wanted)}")
        return found

    def set_role_permissions(self, role_id: int, permission_view_ids: list[int]) -> None:
        """Replace the role's permissions (the API does not add)."""
        self._json("POST", f"/api/v1/security/roles/{role_id}/permissions",
                   json={"permission_view_menu_ids": sorted(permission_view_ids)})

    def upsert_rls(self, name: str, filter_type: str, tables: list[int], roles: list[int], clause: str,
                   group_key: str = "") -> int:
        """Create or fully replace one RLS filter (a partial PUT would clear its tables)."""
        body = {"name": name, "filter_type": filter_type, "tables": sorted(tables), "roles": sorted(roles),
                "clause": clause, "group_key": group_key, "description": "managed by kouiki.superset_runtime"}
        found = self._json("GET", "/api/v1/rowlevelsecurity/",
                           params={"q": f"(filters:!((col:name,opr:eq,value:'{name}')))"})["result"]
        if found:
            self._json("PUT", f"/api/v1/rowlevelsecurity/{found[0]['id']}", json=body)
            return int(found[0]["id"])
        return int(self._json("POST", "/api/v1/rowlevelsecurity/", json=body)["id"])

    def ensure_user(self, username: str, password: str, roles: list[str]) -> int:
        """Create the user, or reset its roles and password; returns its id."""
        known = self.roles()
        role_ids = [known[r] for r in roles]
        found = self._json("GET", "/api/v1/security/users/",
                           params={"q": f"(filters:!((col:username,opr:eq,value:'{username}')))"})["result"]
        body = {"first_name": username, "last_name": "kouiki", "username": username, "password": password,
                "email": f"{username}@kouiki.invalid", "active": True, "roles": role_ids}
        if found:
            self._json("PUT", f"/api/v1/security/users/{found[0]['id']}", json=body)
            return int(found[0]["id"])
        return int(self._json("POST", "/api/v1/security/users/", json=body)["id"])

    def apply_security(self, consortia: list[str]) -> dict[str, Any]:
        datasets = [d | {"id": self.id_by_uuid("dataset", d["uuid"])} for d in bundle_datasets()]
        roles = self.roles()
        cabinet = self.ensure_role(CABINET_ROLE, roles)
        self.set_role_permissions(cabinet, self.datasource_access_ids(d["id"] for d in datasets))
        secretariat_datasets = [d for d in datasets if d["uuid"] not in CABINET_ONLY_DATASETS]
        secretariat_perms = self.datasource_access_ids(d["id"] for d in secretariat_datasets)
        with_consortium = [d["id"] for d in datasets if CONSORTIUM_COLUMN in d["columns"]]
        secretariats = {}
        for code in consortia:
            role_id = self.ensure_role(secretariat_role(code), roles)
            self.set_role_permissions(role_id, secretariat_perms)
            self.upsert_rls(f"kouiki_consortium_{code}", "Regular", with_consortium, [role_id],
                            f"{CONSORTIUM_COLUMN} = '{code}'", group_key=CONSORTIUM_COLUMN)
            secretariats[code] = role_id
        exempt = [roles["Admin"], cabinet, *secretariats.values()]
        self.upsert_rls(DENY_BY_DEFAULT_FILTER, "Base", [d["id"] for d in datasets], exempt, "1 = 0")
        return {"cabinet_role": cabinet, "secretariat_roles": secretariats}


# --- REST client --------------------------------------------------------------------------------


def bundle_uuids(kind: str) -> list[str]:
    """UUIDs of the committed assets of one kind ("charts", "datasets", ...)."""
    paths = sorted((ASSETS_DIR / kind).rglob("*.yaml"))
    return [str(yaml.safe_load(p.read_text(encoding="utf-8"))["uuid"]) for p in paths]


def _rison_uuid_filter(uuid: str) -> str:
    return f"(filters:!((col:uuid,opr:eq,value:'{uuid}')))"


def _datasource_uid(chart: Mapping[str, Any]) -> str:
    return f"{chart['datasource_id']}__{chart['datasource_type']}"


def _datasource_fix(chart: Mapping[str, Any]) -> dict[str, str]:
    """The chart fields (params, query_context) whose datasource reference is stale, corrected."""
    uid = _datasource_uid(chart)
    source = {"id": chart["datasource_id"], "type": chart["datasource_type"]}
    update: dict[str, str] = {}
    params = json.loads(chart["params"] or "{}")
    if params.get("datasource") != uid:
        update["params"] = json.dumps(params | {"datasource": uid}, ensure_ascii=False)
    context = json.loads(chart.get("query_context") or "null")
    if context and context.get("datasource") != source:
        context["datasource"] = source
        context.setdefault("form_data", {})["datasource"] = uid
        for query in context.get("queries", []):
            query.pop("datasource", None)
        update["query_context"] = json.dumps(context, ensure_ascii=False)
    return update


class ApiClient(_SecurityMixin):
    """A logged-in session against the Superset REST API (and the legacy chart endpoint)."""

    def __init__(self, url: str | None = None, timeout: float = 60.0) -> None:
        self.url = (url or base_url()).rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        # Superset's CSRF check on HTTP also compares the Referer with the host.
        self.session.headers["Referer"] = self.url

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.url}{path}", timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise SupersetError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self._request(method, path, **kwargs).json())

    def login(self, username: str, password: str) -> None:
        """JWT login for the REST API, plus the CSRF token its write endpoints require."""
        body = {"username": username, "password": password, "provider": "db", "refresh": True}
        token = self._json("POST", "/api/v1/security/login", json=body)["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        csrf = self._json("GET", "/api/v1/security/csrf_token/")["result"]
        self.session.headers["X-CSRFToken"] = csrf

    def form_login(self, username: str, password: str) -> None:
        """Cookie session via the login form; the legacy explore_json endpoint accepts only this."""
        if "X-CSRFToken" not in self.session.headers:
            self.session.headers["X-CSRFToken"] = self._json("GET", "/api/v1/security/csrf_token/")["result"]
        form = {"username": username, "password": password, "csrf_token": self.session.headers["X-CSRFToken"]}
        response = self._request("POST", "/login/", data=form, allow_redirects=False)
        if response.status_code != 302 or "/login" in response.headers.get("Location", "/login"):
            raise SupersetError(f"form login as {username} failed ({response.status_code})")

    def id_by_uuid(self, resource: str, uuid: str) -> int:
        """Numeric id of a chart/dataset/dashboard from its (committed) UUID."""
        found = self._json("GET", f"/api/v1/{resource}/", params={"q": _rison_uuid_filter(uuid)})["ids"]
        if len(found) != 1:
            raise SupersetError(f"{resource} with uuid {uuid} not found")
        return int(found[0])

    def chart(self, chart: int | str) -> dict[str, Any]:
        chart_id = chart if isinstance(chart, int) else self.id_by_uuid("chart", chart)
        saved = cast(dict[str, Any], self._json("GET", f"/api/v1/chart/{chart_id}")["result"])
        return saved | {"id": chart_id}

    def link_charts_to_datasets(self, uuids: Iterable[str] | None = None) -> None:
        """Point each chart's saved params and query context at its imported dataset.

        import-directory assigns dataset ids but keeps the placeholder id of the committed query
        context, which GET /api/v1/chart/<id>/data/, reports and cache warm-up rely on.
        """
        for uuid in uuids if uuids is not None else bundle_uuids("charts"):
            saved = self.chart(uuid)
            update = _datasource_fix(saved)
            if update:
                self._request("PUT", f"/api/v1/chart/{saved['id']}", json=update)

    def chart_data(self, chart: int | str, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows a chart shows, optionally with equality filters such as {"fiscal_year": 2026}.

        Charts with a saved query context go through /api/v1/chart/data; legacy charts (the country
        map) through /superset/explore_json/, which needs ``form_login`` first.
        """
        saved = self.chart(chart)
        if saved.get("query_context"):
            return self._query_context_rows(saved, filters or {})
        return self._legacy_rows(saved, filters or {})

    def _query_context_rows(self, saved: dict[str, Any], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        if not filters:
            result = self._json("GET", f"/api/v1/chart/{saved['id']}/data/")
        else:
            context = json.loads(saved["query_context"])
            for query in context["queries"]:
                query["filters"] = [*query.get("filters", []),
                                    *({"col": c, "op": "==", "val": v} for c, v in filters.items())]
            result = self._json("POST", "/api/v1/chart/data", json=context)
        return cast(list[dict[str, Any]], result["result"][0]["data"])

    def _legacy_rows(self, saved: dict[str, Any], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        form_data = json.loads(saved["params"])
        form_data["datasource"] = _datasource_uid(saved)
        form_data["adhoc_filters"] = [
            *form_data.get("adhoc_filters", []),
            *({"expressionType": "SIMPLE", "clause": "WHERE", "subject": c, "operator": "==", "comparator": v}
              for c, v in filters.items()),
        ]
        result = self._json("POST", "/superset/explore_json/", data={"form_data": json.dumps(form_data)})
        return cast(list[dict[str, Any]], result.get("data") or [])

    def refresh_datasets(self, uuids: Iterable[str] | None = None) -> list[int]:
        """Invalidate cached chart data after a new serving file is published.

        The dataset's changed_on is part of every query's cache key, so touching the dataset is
        enough; the stamp goes into ``extra`` to leave user-visible fields alone.
        """
        stamp = json.dumps({"kouiki_published_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        touched = []
        for uuid in uuids if uuids is not None else bundle_uuids("datasets"):
            dataset_id = self.id_by_uuid("dataset", uuid)
            self._request("PUT", f"/api/v1/dataset/{dataset_id}", json={"extra": stamp})
            touched.append(dataset_id)
        return touched


def admin_client(settings: Settings, legacy: bool = False) -> ApiClient:
    """An ApiClient logged in as the Kouiki admin (also form-logged-in when ``legacy``)."""
    client = ApiClient()
    username, password = credentials(settings)
    client.login(username, password)
    if legacy:
        client.form_login(username, password)
    return client


def refresh_datasets(settings: Settings) -> list[int]:
    """After a publish, make the running Superset drop cached results of the old serving file."""
    if not is_running(settings):
        return []  # start() drops the on-disk result cache anyway
    apply_security(settings)  # a new serving file may name new consortia
    return admin_client(settings).refresh_datasets()


def dashboard_url(settings: Settings) -> str:
    return f"{base_url()}/superset/dashboard/{DASHBOARD_SLUG}/"

