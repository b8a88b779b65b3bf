"""Compose's airflow-init (infra/docker/airflow-init.sh) run for real with the Airflow services'
environment from docker-compose.yml, against a throw-away PostgreSQL database: it refuses a missing or
malformed Fernet key, migrates Airflow's and the FAB auth manager's tables, and creates the FAB admin
with the password from .env, or sets it again on the next run (password rotation)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from cryptography.fernet import Fernet

from tests.support.identity import postgres_database

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "infra" / "docker" / "airflow-init.sh"


def compose_airflow_environment() -> dict[str, Any]:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    return dict(compose["services"]["airflow-init"]["environment"])


def init_env(tmp_path: Path, db_url: str, **overrides: str) -> dict[str, str]:
    wanted = compose_airflow_environment()
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    env |= {
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__AUTH_MANAGER": wanted["AIRFLOW__CORE__AUTH_MANAGER"],
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url.replace("postgresql://", "postgresql+psycopg2://"),
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "KOUIKI_ADMIN_PASSWORD": "first-admin-password",
        "KOUIKI_DATA_DIR": str(tmp_path / "data"),
    }
    assert set(env) - {"PATH", "HOME", "AIRFLOW_HOME"} <= set(wanted)  # only what compose gives the service
    return env | overrides


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300)


def admin_can_log_in_with(db_url: str, password: str) -> bool:
    from werkzeug.security import check_password_hash  # FAB's hashing

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "select u.password, r.name from ab_user u join ab_user_role ur on ur.user_id = u.id"
                " join ab_role r on r.id = ur.role_id where u.username = 'admin'"
            )
        ).one()
    engine.dispose()
    return row[1] == "Admin" and check_password_hash(row[0], password)


@pytest.mark.parametrize("fernet", ["", "change-me-fernet-key", "not-a-fernet-key"])
def test_an_unusable_fernet_key_stops_it(tmp_path: Path, fernet: str) -> None:
    done = run(init_env(tmp_path, "postgresql://nobody@127.0.0.1:1/none", AIRFLOW__CORE__FERNET_KEY=fernet))
    assert done.returncode == 1
    assert "FERNET" in done.stderr


def test_it_creates_the_fab_admin_and_rotates_its_password(tmp_path: Path) -> None:
    with postgres_database() as db_url:
        env = init_env(tmp_path, db_url)
        first = run(env)
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
        assert "first-admin-password" not in first.stdout + first.stderr
        assert admin_can_log_in_with(db_url, "first-admin-password")

        again = run(env | {"KOUIKI_ADMIN_PASSWORD": "rotated-admin-password"})
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
        assert admin_can_log_in_with(db_url, "rotated-admin-password")
        assert not admin_can_log_in_with(db_url, "first-admin-password")
