"""Run Airflow locally: api-server, scheduler, dag-processor and triggerer with the LocalExecutor,
all bound to 127.0.0.1, configured only through ``AIRFLOW__*`` environment variables. The metadata database is
SQLite under the data directory unless ``KOUIKI_AIRFLOW_DB_URL`` names another (PostgreSQL in CI's
hands-off test and in production).

The scheduler and the triggerer run with ``--skip-serve-logs`` because their log servers always
listen on every interface; with the LocalExecutor the api-server reads task logs from disk, so
nothing is lost. The triggerer watches the intake topics (kouiki.orchestration.intake_trigger);
its Kafka consumer can stall without an error when the broker restarts, so whoever restarts the
broker stops it first and starts it again afterwards (kouiki.services.local_stack.start_broker).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from kouiki.config import Settings
from kouiki.orchestration.intake_trigger import connection_variable
from kouiki.services import processes, secrets_store

COMPONENTS = {
    "airflow-api-server": ["api-server"],
    "airflow-scheduler": ["scheduler", "--skip-serve-logs"],
    "airflow-dag-processor": ["dag-processor"],
    "airflow-triggerer": ["triggerer", "--skip-serve-logs"],
}
TRIGGERER = "airflow-triggerer"
DAG_IDS = ("kouiki_ingest", "kouiki_transform", "kouiki_publish")
ADMIN_USER = secrets_store.ADMIN_USERNAME


def home(settings: Settings) -> Path:
    return settings.run_dir / "airflow"


def base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.airflow_port}"


def database_url(settings: Settings) -> str:
    if settings.airflow_db_url:
        return settings.airflow_db_url
    return f"sqlite:///{(home(settings) / 'airflow.db').resolve()}"


def fernet_key(settings: Settings) -> str:
    """Airflow's Fernet key for this data directory: 32 random bytes, URL-safe base64 with padding."""
    return secrets_store.stored_secret(settings, "airflow_fernet_key", nbytes=32) + "="


def admin_password(settings: Settings) -> str:
    return secrets_store.admin_password(settings)


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(settings.environment())  # the DAG tasks read the same settings
    url = base_url(settings)
    passwords = home(settings) / "simple_auth_manager_passwords.json"
    env.update(
        {
            "PATH": f"{settings.venv_executable('.venv', '')}:{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(home(settings)),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.project_root / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # One key for every process: left unset, each process that starts before airflow.cfg
            # exists makes up its own, and the triggerer then cannot decrypt the trigger rows the
            # dag-processor wrote (InvalidToken, and the triggerer exits).
            "AIRFLOW__CORE__FERNET_KEY": fernet_key(settings),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Tokyo",
            "AIRFLOW__CORE__PARALLELISM": "4",  # LocalExecutor pre-forks this many workers; 2 cores here
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url(settings),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__API__HOST": "127.0.0.1",  # the default is every interface
            "AIRFLOW__API__PORT": str(settings.airflow_port),
            "AIRFLOW__API__BASE_URL": url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets_store.stored_secret(settings, "airflow_jwt_secret", nbytes=64),
            "AIRFLOW__API__SECRET_KEY": secrets_store.stored_secret(settings, "airflow_api_secret_key"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home(settings) / "logs"),
            **connection_variable(settings),  # the intake trigger's Kafka connection
        }
    )
    return env


def ensure_database(settings: Settings, fresh: bool = False) -> None:
    """Create the metadata database if it does not exist yet (SQLite creates its own file); with
    ``fresh``, drop a PostgreSQL one first (tests and benchmarks that must start empty)."""
    url = database_url(settings)
    if url.startswith("sqlite"):
        return
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            if fresh:
                cur.execute(f'drop database if exists "{name}" with (force)')
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{name}"')
    finally:
        conn.close()


def _airflow(settings: Settings, *args: str) -> None:
    proc = subprocess.run(
        [str(settings.venv_executable(".venv", "airflow")), *args],
        env=environment(settings),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        raise processes.ServiceError(f"airflow {' '.join(args)} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")


def prepare(settings: Settings) -> None:
    """Metadata database, schema migration, the DuckDB pool and the admin password file."""
    home(settings).mkdir(parents=True, exist_ok=True)
    passwords = home(settings) / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({ADMIN_USER: admin_password(settings)}))
    passwords.chmod(0o600)
    ensure_database(settings)
    _airflow(settings, "db", "migrate")
    _airflow(settings, "pools", "set", "kouiki_duckdb", "1", "dbt build and publish: one DuckDB writer")


def start(settings: Settings, timeout: float = 180.0) -> str:
    prepare(settings)
    env = environment(settings)
    for name in COMPONENTS:
        _start_component(settings, name, env)
    wait_healthy(settings, timeout)
    return base_url(settings)


def _start_component(settings: Settings, name: str, env: dict[str, str]) -> int:
    return processes.start(
        settings.run_dir,
        name,
        [str(settings.venv_executable(".venv", "airflow")), *COMPONENTS[name]],
        env=env,
        cwd=home(settings),
    )


def stop_triggerer(settings: Settings) -> bool:
    """Stop the triggerer if it runs; True if it did."""
    return processes.stop(settings.run_dir, TRIGGERER, timeout=20)


def start_triggerer(settings: Settings, timeout: float = 60.0) -> None:
    _start_component(settings, TRIGGERER, environment(settings))
    wait_healthy(settings, timeout)


HEALTH_CHECKED = ("metadatabase", "scheduler", "dag_processor", "triggerer")


def wait_healthy(settings: Settings, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(f"{base_url(settings)}/api/v2/monitor/health", timeout=3).json()
            if all(last.get(c, {}).get("status") == "healthy" for c in HEALTH_CHECKED):
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(1)
    raise processes.ServiceError(f"Airflow not healthy within {timeout:.0f} s: {last}")


def stop(settings: Settings) -> None:
    """The scheduler goes first and alone: its LocalExecutor lets running tasks finish, and those
    tasks still need the api-server to report their state."""
    processes.stop(settings.run_dir, "airflow-scheduler", timeout=40, group=False)
    processes.stop(settings.run_dir, "airflow-scheduler", timeout=5)  # any workers left in its group
    for name in (TRIGGERER, "airflow-dag-processor", "airflow-api-server"):
        processes.stop(settings.run_dir, name, timeout=20)


def is_running(settings: Settings) -> bool:
    return all(processes.read_pid(settings.run_dir, name) for name in COMPONENTS)
