"""The running platform for end-to-end tests: broker, the warm dbt worker and Airflow (LocalExecutor)
on free loopback ports, with Airflow's metadata on the embedded SQLite default or on a fresh PostgreSQL database."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kouiki.config import Settings
from kouiki.services import airflow, broker, dbt_worker
from kouiki.services.superset import process
from tests.support.platform import free_port


@contextmanager
def running_platform(settings: Settings, postgres_db: str | None = None, **overrides: Any) -> Iterator[Settings]:
    """Start broker and Airflow for ``settings`` on free ports, Airflow's metadata on SQLite under the
    data directory (the default) or, with ``postgres_db``, on that fresh PostgreSQL database; yield the
    settings they run with; stop everything (Superset too) afterwards."""
    if postgres_db is not None:
        overrides["airflow_db_url"] = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{postgres_db}"
    settings = dataclasses.replace(settings, airflow_port=free_port(), superset_port=free_port(), **overrides)
    if postgres_db is not None:
        airflow.ensure_database(settings, fresh=True)
    with pytest.MonkeyPatch.context() as env:
        env.delenv("KOUIKI_ADMIN_PASSWORD", raising=False)
        try:
            broker.start(settings)
            dbt_worker.start(settings)
            airflow.start(settings)
            yield settings
        finally:
            process.stop(settings)
            airflow.stop(settings)
            dbt_worker.stop(settings)
            broker.stop(settings)
