"""Compose's postgres-init (infra/postgres/create-databases.sh) run for real against the machine's
PostgreSQL, as the postgres image would run it: one database and login role per service, each
database closed to the other roles, the password from the environment set exactly (checked against
the stored SCRAM verifier, since the local server trusts loopback logins), safe to run again, and
placeholders refused before anything is created."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.identity import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "postgres" / "create-databases.sh"


def scram_matches(verifier: str, password: str) -> bool:
    """Whether PostgreSQL's SCRAM-SHA-256 verifier was made from ``password`` (RFC 5802/7677)."""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return (
        method == "SCRAM-SHA-256"
        and hashlib.sha256(client_key).digest() == stored_key
        and hmac.new(salted, b"Server Key", hashlib.sha256).digest() == server_key
    )


@pytest.fixture
def names() -> Iterator[dict[str, str]]:
    suffix = secrets.token_hex(4)
    found = {"a": f"kouiki_pginit_a_{suffix}", "b": f"kouiki_pginit_b_{suffix}"}
    yield found
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in found.values():
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{name}"'))
    admin.dispose()


def run_init(names: dict[str, str], passwords: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert shutil.which("psql"), "the psql client is missing: run infra/test-prerequisites.sh (make test does)"
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": "127.0.0.1",
        "PGUSER": "postgres",
        "KOUIKI_DATABASES": f"{names['a']}:{names['a']}:A_PASSWORD {names['b']}:{names['b']}:B_PASSWORD",
        "A_PASSWORD": passwords["a"],
        "B_PASSWORD": passwords["b"],
    }
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def state(names: dict[str, str]) -> dict[str, tuple[str, str | None, str]]:
    admin = sa.create_engine(POSTGRES_ADMIN_URL)
    with admin.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select d.datname, pg_get_userbyid(d.datdba), d.datacl::text, a.rolpassword"
                " from pg_database d join pg_authid a on a.rolname = d.datname where d.datname in (:a, :b)"
            ),
            names,
        ).all()
    admin.dispose()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def can_connect(role: str, database: str) -> bool:
    engine = sa.create_engine(f"postgresql://{role}@127.0.0.1:5432/{database}")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        assert "CONNECT privilege" in str(exc)
        return False
    finally:
        engine.dispose()
    return True


def test_each_service_gets_its_own_database_and_role(names: dict[str, str]) -> None:
    hostile = "it's; DROP ROLE postgres; --"  # reaches SQL only as a quoted literal
    done = run_init(names, {"a": "first-password-a", "b": hostile})
    assert done.returncode == 0, done.stderr
    created = state(names)
    assert set(created) == set(names.values())
    for name, (owner, acl, _verifier) in created.items():
        assert owner == name
        assert acl == f"{{{name}=CTc/{name}}}"  # the owner only: PUBLIC lost its default CONNECT and TEMP
    assert scram_matches(created[names["a"]][2], "first-password-a")
    assert scram_matches(created[names["b"]][2], hostile)
    assert can_connect(names["a"], names["a"])
    assert not can_connect(names["a"], names["b"])
    assert not can_connect(names["b"], names["a"])


def test_running_again_keeps_the_data_and_takes_the_new_password(names: dict[str, str]) -> None:
    assert run_init(names, {"a": "first-password-a", "b": "first-password-b"}).returncode == 0
    engine = sa.create_engine(f"postgresql://{names['a']}@127.0.0.1:5432/{names['a']}")
    with engine.begin() as conn:
        conn.execute(sa.text("create table kept (x int)"))
        conn.execute(sa.text("insert into kept values (1)"))
    again = run_init(names, {"a": "rotated-password-a", "b": "first-password-b"})
    assert again.returncode == 0, again.stderr
    with engine.connect() as conn:
        assert conn.execute(sa.text("select x from kept")).scalar_one() == 1
    engine.dispose()
    assert scram_matches(state(names)[names["a"]][2], "rotated-password-a")


def test_a_placeholder_password_is_refused_before_anything_is_created(names: dict[str, str]) -> None:
    done = run_init(names, {"a": "change-me-airflow-db-password", "b": "fine-password-b"})
    assert done.returncode == 1
    assert "A_PASSWORD" in done.stderr and "placeholder" in done.stderr
    assert state(names) == {}
