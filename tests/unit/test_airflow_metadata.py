"""Airflow's metadata database: SQLite under the data directory unless KOUIKI_AIRFLOW_DB_URL names
another, so `make demo` needs no database server (the end-to-end test runs Airflow on this default;
the hands-off test on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kouiki.services import airflow
from tests.support.platform import settings_for


def test_the_default_is_sqlite_under_the_data_directory(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", "127.0.0.1:1")
    url = airflow.database_url(settings)
    assert url == f"sqlite:///{tmp_path / 'data' / 'run' / 'airflow' / 'airflow.db'}"
    assert airflow.environment(settings)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == url


def test_a_configured_url_wins(tmp_path: Path) -> None:
    postgres = "postgresql+psycopg2://postgres@127.0.0.1:5432/kouiki_airflow"
    settings = settings_for(tmp_path / "data", "127.0.0.1:1", airflow_db_url=postgres)
    assert airflow.database_url(settings) == postgres


def test_sqlite_needs_no_database_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With SQLite nothing connects to PostgreSQL (which a laptop may not have)."""
    import psycopg2

    def no_server(*args: object, **kwargs: object) -> None:
        raise AssertionError("connected to PostgreSQL for a SQLite metadata database")

    monkeypatch.setattr(psycopg2, "connect", no_server)
    airflow.ensure_database(settings_for(tmp_path / "data", "127.0.0.1:1"))


def test_every_airflow_process_gets_the_same_fernet_key(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    settings = settings_for(tmp_path / "data", "127.0.0.1:9")
    key = airflow.environment(settings)["AIRFLOW__CORE__FERNET_KEY"]
    assert airflow.environment(settings)["AIRFLOW__CORE__FERNET_KEY"] == key  # stored, not made up per process
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"kwargs")) == b"kwargs"
