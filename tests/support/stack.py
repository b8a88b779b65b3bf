"""The running platform for end-to-end tests: broker and Airflow (LocalExecutor on a fresh
PostgreSQL database) on free loopback ports, configured through the environment as in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest

from kouiki import airflow_runtime, broker, superset_runtime
from kouiki.config import Settings
from tests.conftest import free_port


def recreate_database(name: str) -> None:
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    conn.close()


@contextmanager
def running_platform(settings: Settings, airflow_db: str, **extra_env: str) -> Iterator[Settings]:
    """Start broker and Airflow for ``settings``; stop everything (Superset too) afterwards."""
    recreate_database(airflow_db)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KOUIKI_DATA_DIR", str(settings.data_dir))
        env.setenv("KOUIKI_BOOTSTRAP_SERVERS", settings.bootstrap_servers)
        env.setenv("KOUIKI_AIRFLOW_PORT", str(free_port()))
        env.setenv("KOUIKI_SUPERSET_PORT", str(free_port()))
        env.setenv("KOUIKI_AIRFLOW_DB_URL", f"postgresql+psycopg2://postgres@127.0.0.1:5432/{airflow_db}")
        for name, value in extra_env.items():
            env.setenv(name, value)
        env.delenv("KOUIKI_ADMIN_PASSWORD", raising=False)
        try:
            broker.start(settings)
            airflow_runtime.start(settings)
            yield settings
        finally:
            superset_runtime.stop(settings)
            airflow_runtime.stop(settings)
            broker.stop(settings)
