"""Run Airflow locally: api-server, scheduler and dag-processor with the LocalExecutor on the local
PostgreSQL, all bound to 127.0.0.1, configured only through ``AIRFLOW__*`` environment variables.

The scheduler runs with ``--skip-serve-logs`` because its log server always binds 0.0.0.0; with the
LocalExecutor the api-server reads task logs from disk, so nothing is lost.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from kouiki import procs, secrets_store
from kouiki.config import REPO_ROOT, Settings, venv_bin

COMPONENTS = {
    "airflow-api-server": ["api-server"],
    "airflow-scheduler": ["scheduler", "--skip-serve-logs"],
    "airflow-dag-processor": ["dag-processor"],
}
DAG_IDS = ("kouiki_ingest", "kouiki_transform", "kouiki_publish")
ADMIN_USER = secrets_store.ADMIN_USERNAME


def home(settings: Settings) -> Path:
    return settings.run_dir / "airflow"


def port() -> int:
    return int(os.environ.get("KOUIKI_AIRFLOW_PORT", "8080"))


def base_url() -> str:
    return f"http://127.0.0.1:{port()}"


def database_url() -> str:
    return os.environ.get("KOUIKI_AIRFLOW_DB_URL",
                          "postgresql+psycopg2://postgres@127.0.0.1:5432/kouiki_airflow")


def admin_password(settings: Settings) -> str:
    return secrets_store.admin_password(settings)


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    url = base_url()
    passwords = home(settings) / "simple_auth_manager_passwords.json"
    env.update({
        "PATH": f"{venv_bin('.venv', '')}:{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(home(settings)),
        "KOUIKI_DATA_DIR": str(settings.data_dir),
        "KOUIKI_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Tokyo",
        "AIRFLOW__CORE__PARALLELISM": "4",  # LocalExecutor pre-forks this many workers; 2 cores here
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url(),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",  # the default is 0.0.0.0
        "AIRFLOW__API__PORT": str(port()),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets_store.stored_secret(settings, "airflow_jwt_secret", nbytes=64),
        "AIRFLOW__API__SECRET_KEY": secrets_store.stored_secret(settings, "airflow_api_secret_key"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home(settings) / "logs"),
    })
    return env


def ensure_database() -> None:
    """Create the metadata database on the local PostgreSQL if it does not exist yet."""
    import psycopg2

    parts = urlsplit(database_url())
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                            password=parts.password, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{name}"')
    finally:
        conn.close()


def _airflow(settings: Settings, *args: str) -> None:
    import subprocess

    proc = subprocess.run([str(venv_bin(".venv", "airflow")), *args], env=environment(settings),
                          capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode != 0:
        raise procs.ServiceError(f"airflow {' '.join(args)} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")


def prepare(settings: Settings) -> None:
    """Metadata database, schema migration, the DuckDB pool and the admin password file."""
    home(settings).mkdir(parents=True, exist_ok=True)
    passwords = home(settings) / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({ADMIN_USER: admin_password(settings)}))
    passwords.chmod(0o600)
    ensure_database()
    _airflow(settings, "db", "migrate")
    _airflow(settings, "pools", "set", "kouiki_duckdb", "1", "dbt build and publish: one DuckDB writer")


def start(settings: Settings, timeout: float = 180.0) -> str:
    prepare(settings)
    env = environment(settings)
    for name, args in COMPONENTS.items():
        procs.start(settings.run_dir, name, [str(venv_bin(".venv", "airflow")), *args], env=env,
                    cwd=home(settings))
    wait_healthy(timeout)
    return base_url()


def wait_healthy(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(f"{base_url()}/api/v2/monitor/health", timeout=3).json()
            if all(last.get(c, {}).get("status") == "healthy"
                   for c in ("metadatabase", "scheduler", "dag_processor")):
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(1)
    raise procs.ServiceError(f"Airflow not healthy within {timeout:.0f} s: {last}")


def stop(settings: Settings) -> None:
    """The scheduler goes first and alone: its LocalExecutor lets running tasks finish, and those
    tasks still need the api-server to report their state."""
    procs.stop(settings.run_dir, "airflow-scheduler", timeout=40, group=False)
    procs.stop(settings.run_dir, "airflow-scheduler", timeout=5)  # any workers left in its group
    for name in ("airflow-dag-processor", "airflow-api-server"):
        procs.stop(settings.run_dir, name, timeout=20)


def is_running(settings: Settings) -> bool:
    return all(procs.read_pid(settings.run_dir, name) for name in COMPONENTS)


class AirflowClient:
    """The few REST API v2 calls the platform needs."""

    def __init__(self, settings: Settings) -> None:
        self.session = requests.Session()
        token = requests.post(f"{base_url()}/auth/token", timeout=10,
                              json={"username": ADMIN_USER, "password": admin_password(settings)})
        token.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def _get(self, path: str, **params: Any) -> Any:
        response = self.session.get(f"{base_url()}/api/v2{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def wait_for_dags(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            known = {d["dag_id"] for d in self._get("/dags", limit=100)["dags"]}
            if set(DAG_IDS) <= known:
                return
            time.sleep(1)
        raise procs.ServiceError(f"DAGs {DAG_IDS} were not parsed within {timeout:.0f} s")

    def trigger(self, dag_id: str) -> str:
        response = self.session.post(f"{base_url()}/api/v2/dags/{dag_id}/dagRuns", timeout=10,
                                     json={"logical_date": None, "conf": {}})
        response.raise_for_status()
        return str(response.json()["dag_run_id"])

    def runs(self, dag_id: str, **params: Any) -> list[dict[str, Any]]:
        return list(self._get(f"/dags/{dag_id}/dagRuns", order_by="-run_after", limit=20, **params)["dag_runs"])

    def wait_for_success(self, dag_id: str, after: float, timeout: float = 300.0) -> dict[str, Any]:
        """The first successful run of ``dag_id`` queued after the epoch time ``after``; fail fast
        when any Kouiki DAG run fails."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for run in self.runs(dag_id, state="success"):
                if _epoch(run["queued_at"]) >= after:
                    return run
            for other in DAG_IDS:
                failed = [r for r in self.runs(other, state="failed") if _epoch(r["queued_at"]) >= after]
                if failed:
                    raise procs.ServiceError(f"{other} run {failed[0]['dag_run_id']} failed; "
                                             f"see the task log under {base_url()}")
            time.sleep(2)
        raise procs.ServiceError(f"no successful {dag_id} run within {timeout:.0f} s")


def _epoch(timestamp: str | None) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp).timestamp() if timestamp else 0.0
