"""Superset in production mode (infra/superset/superset_config.py, the environment docker-compose.yml
sets): metadata in a PostgreSQL database of its own, caches and Celery on Redis, a Celery worker and
beat that run a scheduled report and e-mail it over SMTP, and Kouiki's people logging in against a
PostgreSQL identity store. Everything runs from .venv-superset as the containers run it."""

from __future__ import annotations

import dataclasses
import email.message
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
import sqlalchemy as sa
import yaml

from kouiki.config import Settings
from kouiki.identity import store, users
from kouiki.identity.principal import CABINET, SECRETARIAT
from kouiki.services.superset import api, security
from kouiki.services.superset.process import SupersetError
from tests.support.identity import POSTGRES_ADMIN_URL, identity_settings, postgres_database
from tests.support.platform import REPO, free_port
from tests.support.smtp import Sink, smtp_server

pytestmark = pytest.mark.integration

PORT = free_port()  # chosen when the module is collected
URL = f"http://127.0.0.1:{PORT}"
PUBLIC_URL = "https://superset.kouiki.example/"  # what report e-mails must link to
REDIS_DB = 7
SMTP_FROM = "superset@kouiki.example"
RECIPIENT = "cabinet-office@kouiki.example"
VENV_BIN = REPO / ".venv-superset" / "bin"
CONFIG = REPO / "infra" / "superset" / "superset_config.py"
START_TIMEOUT_S = 120.0
MAIL_TIMEOUT_S = 150.0  # beat fires reports.scheduler on the minute; the report runs in the same minute


# --- Redis (db 7), spoken directly: the platform's venv has no Redis client ---------------------


def _reply(f: Any) -> Any:
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b"+":
        return rest.decode()
    if kind == b":":
        return int(rest)
    if kind == b"$":
        return None if int(rest) < 0 else f.read(int(rest) + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        return [] if int(rest) < 0 else [_reply(f) for _ in range(int(rest))]
    raise RuntimeError(f"unexpected Redis reply {line!r}")


def redis(*command: str) -> Any:
    """One command on database ``REDIS_DB``."""
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as conn, conn.makefile("rwb") as f:
        for args in (("SELECT", str(REDIS_DB)), command):
            f.write(f"*{len(args)}\r\n".encode())
            for arg in args:
                f.write(f"${len(arg.encode())}\r\n{arg}\r\n".encode())
        f.flush()
        _reply(f)
        return _reply(f)


def redis_keys(pattern: str) -> list[str]:
    return sorted(redis("KEYS", pattern))


# --- the stack --------------------------------------------------------------------------------


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


@dataclass
class Stack:
    env: dict[str, str]
    home: Path  # KOUIKI_SUPERSET_HOME, SUPERSET_HOME and the superset commands' working directory
    logs: Path
    metadata_url: str
    identity: Settings  # the PostgreSQL identity store Superset checks passwords against
    admin: api.ApiClient
    admin_password: str
    sink: Sink

    def log_tail(self, name: str, lines: int = 60) -> str:
        text = (self.logs / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def _scratch_metadata_db() -> Iterator[str]:
    """A database and a login role of its own for Superset's metadata, as in production; dropped after."""
    name = f"kouiki_superset_test_{secrets.token_hex(6)}"
    password = secrets.token_urlsafe(16)
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'"))
            conn.execute(sa.text(f'CREATE DATABASE "{name}" OWNER "{name}"'))
        yield f"postgresql+psycopg2://{name}:{password}@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


def _superset(env: dict[str, str], cwd: Path, *args: str, extra: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(VENV_BIN / "superset"), *args],
        env={**env, **(extra or {})},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise AssertionError(f"superset {' '.join(args)} exited {proc.returncode}:\n{output[-4000:]}")
    return output


def _start(name: str, argv: list[str], env: dict[str, str], root: Path) -> subprocess.Popen[bytes]:
    """A service in a process group of its own (stopping it stops its workers too), in a working
    directory of its own as in its container: nothing is shared through files by accident."""
    cwd = root / "run" / name
    cwd.mkdir(parents=True)
    with (root / "logs" / f"{name}.log").open("ab") as out:
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait_healthy(proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if requests.get(f"{URL}/health", timeout=2).text.strip() == "OK":
                return
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
            raise AssertionError(f"Superset did not become healthy:\n{tail}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Superset in production mode on a free loopback port with its worker and beat, started from nothing."""
    if not (_reachable(5432) and _reachable(6379)):
        pytest.fail("needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379: run infra/test-prerequisites.sh")
    if _reachable(PORT):
        pytest.fail(f"port {PORT} is taken by another process")
    root = tmp_path_factory.mktemp("superset-production")
    home, logs = root / "home", root / "logs"
    home.mkdir()
    logs.mkdir()
    smtp_port = free_port()
    started: list[subprocess.Popen[bytes]] = []
    redis("FLUSHDB")
    with _scratch_metadata_db() as metadata_url, postgres_database() as identity_url:
        identity = identity_settings(root, identity_db_url=identity_url)
        store.engine(identity)  # the store's tables, as the platform creates them before Superset starts
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("KOUIKI_", "SUPERSET_", "FLASK_", "CELERY"))
        }
        env.update(
            SUPERSET_CONFIG_PATH=str(CONFIG),
            SUPERSET_SECRET_KEY=secrets.token_urlsafe(42),
            SUPERSET_HOME=str(home),  # Superset's DATA_DIR, where its SQLite default would go
            KOUIKI_SUPERSET_HOME=str(home),  # where local mode's superset.db would go
            KOUIKI_SUPERSET_DB_URL=metadata_url,
            KOUIKI_SUPERSET_REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
            KOUIKI_SUPERSET_INTERNAL_URL=f"{URL}/",
            KOUIKI_SUPERSET_PUBLIC_URL=PUBLIC_URL,
            KOUIKI_SMTP_HOST="127.0.0.1",
            KOUIKI_SMTP_PORT=str(smtp_port),
            KOUIKI_SMTP_STARTTLS="0",
            KOUIKI_SMTP_FROM=SMTP_FROM,
            KOUIKI_IDENTITY_DB_URL=identity_url,
            PYTHONUTF8="1",
        )
        admin_password = secrets.token_urlsafe(16)
        try:
            with smtp_server(smtp_port, Sink()) as sink:
                _superset(env, home, "db", "upgrade")
                _superset(
                    env,
                    home,
                    *("fab", "create-admin", "--username", "admin", "--firstname", "Kouiki", "--lastname", "Admin"),
                    *("--email", "admin@kouiki.invalid"),
                    extra={"FLASK_FAB_CREATE_ADMIN_PASSWORD": admin_password},
                )
                _superset(env, home, "init")
                gunicorn = [str(VENV_BIN / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "4"]
                web = _start("web", [*gunicorn, "-b", f"127.0.0.1:{PORT}", "superset.app:create_app()"], env, root)
                started.append(web)
                celery = [str(VENV_BIN / "celery"), "--app=superset.tasks.celery_app:app"]
                worker = [*celery, "worker", "--pool=prefork", "--concurrency=1", "--loglevel=INFO"]
                started.append(_start("worker", worker, env, root))
                beat = [*celery, "beat", "--loglevel=INFO", "--pidfile=", "--schedule", str(root / "beat-schedule")]
                started.append(_start("beat", beat, env, root))
                _wait_healthy(web, logs / "web.log")
                admin = api.ApiClient(URL)
                admin.login("admin", admin_password)
                yield Stack(env, home, logs, metadata_url, identity, admin, admin_password, sink)
        finally:
            for proc in reversed(started):
                _stop(proc)
            store.dispose(identity)
            redis("FLUSHDB")


@dataclass(frozen=True)
class Chart:
    id: int
    dataset_id: int
    form_data: dict[str, Any]


@pytest.fixture(scope="module")
def chart(stack: Stack) -> Chart:
    """A table chart over a small DuckDB file (the serving database is one), with the query context
    a CSV report needs to fetch its data without a browser."""
    path = stack.home.parent / "serving.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table pref_totals (pref_name varchar, amount integer)")
    con.execute("insert into pref_totals values ('宮城県', 120), ('福岡県', 80)")
    con.close()
    database = stack.admin.request_json(
        "POST",
        "/api/v1/database/",
        json={
            "database_name": "kouiki_test_serving",
            "sqlalchemy_uri": f"duckdb:///{path}",
            "extra": json.dumps({"engine_params": {"connect_args": {"read_only": True}}}),
        },
    )["id"]
    dataset = stack.admin.request_json(
        "POST", "/api/v1/dataset/", json={"database": database, "schema": "main", "table_name": "pref_totals"}
    )["id"]
    columns = ["pref_name", "amount"]
    form_data = {
        "datasource": f"{dataset}__table",
        "viz_type": "table",
        "query_mode": "raw",
        "all_columns": columns,
        "row_limit": 100,
    }
    query = {"columns": columns, "metrics": [], "orderby": [["amount", False]], "row_limit": 100, "filters": []}
    query_context = {
        "datasource": {"id": dataset, "type": "table"},
        "force": False,
        "queries": [query],
        "form_data": form_data,
        "result_format": "json",
        "result_type": "full",
    }
    chart_id = stack.admin.request_json(
        "POST",
        "/api/v1/chart/",
        json={
            "slice_name": "都道府県別の金額",
            "viz_type": "table",
            "datasource_id": dataset,
            "datasource_type": "table",
            "params": json.dumps(form_data, ensure_ascii=False),
            "query_context": json.dumps(query_context, ensure_ascii=False),
        },
    )["id"]
    return Chart(int(chart_id), int(dataset), form_data)


def _sqlite_files(stack: Stack) -> list[Path]:
    """SQLite files anywhere under the test's directory (Superset's and Celery's defaults are SQLite)."""
    found = []
    for path in stack.home.parent.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                if f.read(16) == b"SQLite format 3\x00":
                    found.append(path)
    return sorted(found)


# --- the tests --------------------------------------------------------------------------------


def test_the_metadata_is_in_postgresql(stack: Stack) -> None:
    engine = sa.create_engine(stack.metadata_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            admins = conn.execute(sa.text("select username from ab_user")).scalars().all()
            revision = conn.execute(sa.text("select version_num from alembic_version")).scalar_one()
    finally:
        engine.dispose()
    assert {"ab_user", "dashboards", "slices", "report_schedule", "key_value", "alembic_version"} <= tables
    assert admins == ["admin"]
    assert revision
    assert not (stack.home / "superset.db").exists()
    assert _sqlite_files(stack) == []


def test_caches_are_in_redis(stack: Stack, chart: Chart) -> None:
    assert redis_keys("kouiki_data_*") == []
    rows = stack.admin.request_json("GET", f"/api/v1/chart/{chart.id}/data/")["result"][0]["data"]
    assert {r["pref_name"]: r["amount"] for r in rows} == {"宮城県": 120, "福岡県": 80}
    assert redis_keys("kouiki_data_*"), "the chart's result was not cached in Redis"

    # Explore state goes to Redis too, not to the metadata DB's key_value table.
    body = {
        "datasource_id": chart.dataset_id,
        "datasource_type": "table",
        "chart_id": chart.id,
        "form_data": json.dumps(chart.form_data),
    }
    stack.admin.request_json("POST", "/api/v1/explore/form_data", json=body)
    assert redis_keys("kouiki_explore_form_*")
    engine = sa.create_engine(stack.metadata_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from key_value")).scalar_one() == 0
    finally:
        engine.dispose()


def _attachments(message: email.message.EmailMessage) -> dict[str, bytes]:
    return {
        str(part.get_param("name")): part.get_payload(decode=True)
        for part in message.walk()
        if part.get_content_type() == "application/octet-stream"
    }


def test_a_scheduled_report_is_emailed(stack: Stack, chart: Chart) -> None:
    name = f"kouiki-report-{secrets.token_hex(3)}"
    report = stack.admin.request_json(
        "POST",
        "/api/v1/report/",
        json={
            "type": "Report",
            "name": name,
            "crontab": "* * * * *",
            "timezone": "Asia/Tokyo",
            "chart": chart.id,
            "report_format": "CSV",
            "creation_method": "alerts_reports",
            "active": True,
            "recipients": [{"type": "Email", "recipient_config_json": {"target": RECIPIENT}}],
        },
    )["id"]
    created = time.monotonic()
    while not [m for _, m in stack.sink.received if name in str(m["Subject"])]:
        if time.monotonic() - created > MAIL_TIMEOUT_S:
            logs = stack.admin.request_json("GET", f"/api/v1/report/{report}/log/")["result"]
            raise AssertionError(
                f"no report e-mail after {MAIL_TIMEOUT_S:.0f} s; execution log: {logs}\n"
                f"worker:\n{stack.log_tail('worker')}\nbeat:\n{stack.log_tail('beat')}"
            )
        time.sleep(1)
    print(f"report e-mail received {time.monotonic() - created:.0f} s after the report was created")
    [(recipients, message)] = [(r, m) for r, m in stack.sink.received if name in str(m["Subject"])]
    assert recipients == [RECIPIENT]
    assert SMTP_FROM in str(message["From"])
    [(filename, csv)] = _attachments(message).items()
    assert filename.endswith(".csv")
    text = csv.decode("utf-8-sig")
    assert "宮城県" in text and "120" in text and "福岡県" in text
    html = "".join(str(part.get_content()) for part in message.walk() if part.get_content_type() == "text/html")
    assert PUBLIC_URL in html  # links go to the public URL, never to the worker's internal one
    assert f"127.0.0.1:{PORT}" not in html

    # Celery ran on Redis: the broker's bindings and the tasks' results are there.
    assert redis_keys("_kombu.binding.*")
    assert redis_keys("celery-task-meta-*")
    assert _sqlite_files(stack) == []
    stack.admin.request_json("PUT", f"/api/v1/report/{report}", json={"active": False})


def test_kouiki_people_log_in_against_the_postgresql_store(stack: Stack) -> None:
    cabinet = users.add_user(stack.identity, "pg-cabinet-office", CABINET)
    gone = users.add_user(stack.identity, "pg-gone", CABINET)
    # Their Superset accounts, with random passwords: only the Kouiki store can let them in.
    security.sync_users(stack.admin, users.list_users(stack.identity))

    person = api.ApiClient(URL)
    person.login("pg-cabinet-office", cabinet.password)
    assert person.request_json("GET", "/api/v1/me/")["result"]["username"] == "pg-cabinet-office"
    with pytest.raises(SupersetError, match="401"):
        api.ApiClient(URL).login("pg-cabinet-office", cabinet.password + "x")

    # Read at every login: revoked in the store, refused at once, its Superset account still active.
    users.revoke_user(stack.identity, "pg-gone")
    with pytest.raises(SupersetError, match="401"):
        api.ApiClient(URL).login("pg-gone", gone.password)


# --- the Kouiki dashboards, set up as compose sets them up ------------------------------------------

INVESTMENT_BY_CONSORTIUM_CHART = "6b6f7569-6b69-4000-8000-000000000053"  # on consortium-grained rows


@dataclass(frozen=True)
class Dashboards:
    settings: Settings  # the sample warehouse, with the production Superset and its identity store
    cabinet: users.NewUser
    secretariat: users.NewUser
    consortium: str


@pytest.fixture(scope="module")
def dashboards(stack: Stack, sample_warehouse: Settings) -> Dashboards:
    """What compose runs after Superset's metadata exists: superset-init.sh (the dashboards over the
    published serving file), then `kouiki superset configure` from the platform's environment."""
    env = stack.env | {
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "KOUIKI_ADMIN_PASSWORD": stack.admin_password,
        "KOUIKI_SERVING_PATH": str(sample_warehouse.serving_path),
        "KOUIKI_ASSETS_DIR": str(REPO / "superset_assets"),
    }
    init = subprocess.run(
        ["bash", str(REPO / "infra" / "docker" / "superset-init.sh")],
        env=env,
        cwd=stack.home,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert init.returncode == 0, (init.stdout + init.stderr)[-4000:]
    settings = dataclasses.replace(
        sample_warehouse,
        identity_db_url=stack.identity.identity_db_url,
        superset_url=URL,
        admin_password=stack.admin_password,
    )
    consortium = security.consortium_codes(settings.serving_path)[0]
    cabinet = users.add_user(settings, "prod-cabinet-viewer", CABINET)
    secretariat = users.add_user(settings, "prod-secretariat", SECRETARIAT, [consortium])
    configure = subprocess.run(
        [str(Path(sys.executable).with_name("kouiki")), "superset", "configure"],
        env={k: v for k, v in os.environ.items() if not k.startswith("KOUIKI_")} | settings.environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert configure.returncode == 0, configure.stderr[-4000:]
    return Dashboards(settings, cabinet, secretariat, consortium)


def test_a_secretariat_sees_only_its_consortium_on_the_production_superset(dashboards: Dashboards) -> None:
    admin = api.admin_client(dashboards.settings)
    context = json.loads(admin.chart(INVESTMENT_BY_CONSORTIUM_CHART)["query_context"])
    for query in context["queries"]:
        query["columns"], query["orderby"], query["post_processing"] = ["consortium_code"], [], []
    rows_for_admin = admin.request_json("POST", "/api/v1/chart/data", json=context | {"force": True})
    assert len({r["consortium_code"] for r in rows_for_admin["result"][0]["data"]}) > 1
    secretariat = api.ApiClient(URL)
    secretariat.login(dashboards.secretariat.username, dashboards.secretariat.password)  # the Kouiki password
    rows = secretariat.request_json("POST", "/api/v1/chart/data", json=context | {"force": True})
    assert {r["consortium_code"] for r in rows["result"][0]["data"]} == {dashboards.consortium}


@pytest.mark.browser
def test_every_dashboard_renders_under_the_production_content_security_policy(dashboards: Dashboards) -> None:
    """Talisman's CSP is on in production: every dashboard (the prefecture map included) still draws
    every chart, and the browser reports no blocked resource but Superset's telemetry pixel."""
    from tests.support.browser import ALL_CHARTS_SETTLED, chromium

    cabinet = dashboards.cabinet
    violations: list[str] = []
    with chromium(1600, 1000) as context:
        page = context.new_page()
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{URL}/login/")
        page.fill("input#username, input[name=username]", cabinet.username)
        page.fill("input#password, input[name=password]", cabinet.password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url, timeout=120_000, wait_until="commit")
        for path in sorted((REPO / "superset_assets" / "dashboards").glob("*.yaml")):
            dashboard = yaml.safe_load(path.read_text(encoding="utf-8"))
            response = page.goto(f"{URL}/superset/dashboard/{dashboard['slug']}/")
            assert response is not None and "script-src" in response.headers["content-security-policy"]
            if any(f.get("requiredFirst") for f in dashboard["metadata"]["native_filter_configuration"]):
                page.wait_for_url(lambda u: "native_filters_key=" in u, timeout=90_000)
            expected = sum(
                1 for n in dashboard["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"
            )
            page.wait_for_function(ALL_CHARTS_SETTLED, arg=expected, timeout=90_000, polling=250)
            errors = page.locator('[role="alert"], .ant-alert-error, [data-test="error-tooltip"]').count()
            assert errors == 0, dashboard["slug"]
    assert [v for v in violations if "scarf" not in v.lower()] == []
