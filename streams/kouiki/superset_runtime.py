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
    if IMPORT_FAILURE.search(output):
        raise SupersetError(f"importing {ASSETS_DIR} failed:\n{_log_tail(output)}")
    if is_running(settings):
        admin_client(settings).link_charts_to_datasets()


def bootstrap(settings: Settings) -> None:
    """Bring the metadata DB, admin user, roles and assets up to date; safe to repeat."""
    run_cli(settings, ["db", "upgrade"])
    ensure_admin(settings)
    run_cli(settings, ["init"])
    import_assets(settings)


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
    return url


def stop(settings: Settings) -> bool:
    return procs.stop(settings.run_dir, SERVICE, timeout=30.0)


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


class ApiClient:
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
    return admin_client(settings).refresh_datasets()


def dashboard_url(settings: Settings) -> str:
    return f"{base_url()}/superset/dashboard/{DASHBOARD_SLUG}/"
