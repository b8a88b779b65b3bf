"""The identity store for tests: an embedded store per test, a throw-away PostgreSQL database, and
the ``users``/``keys`` commands run as an operator would."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kouiki.config import Settings
from tests.support.platform import run_kouiki

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CONSORTIUM_A = "KR-TOHOKU-01"
CONSORTIUM_B = "KR-KYUSHU-02"


def identity_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings whose data directory (and so the embedded store and platform key) is under tmp_path."""
    return Settings(data_dir=tmp_path / "data", **overrides)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new database ``kouiki_identity_test_<random>`` on the local PostgreSQL; dropped afterwards."""
    import sqlalchemy as sa

    name = f"kouiki_identity_test_{secrets.token_hex(6)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def kouiki(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return run_kouiki(settings, *args)


def kouiki_json(settings: Settings, *args: str) -> dict[str, Any]:
    """A command with ``--json`` that must succeed; its one JSON object."""
    proc = run_kouiki(settings, *args, "--json", check=True)
    parsed: dict[str, Any] = json.loads(proc.stdout)
    return parsed
