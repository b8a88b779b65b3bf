"""``kouiki users`` and ``kouiki keys``, run as an operator would: with only the data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kouiki.config import Settings
from kouiki.identity import store, users
from kouiki.identity.signing_keys import keyring
from tests.support.identity import CONSORTIUM_A, CONSORTIUM_B, identity_settings, kouiki, kouiki_json


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # no broker: bootstrap servers point at a closed port, and nothing may try them
    return identity_settings(tmp_path, bootstrap_servers="127.0.0.1:9")


def test_users_add_prints_a_working_password_and_token_once(settings: Settings) -> None:
    shown = kouiki_json(settings, "users", "add", "tohoku", "--consortium", CONSORTIUM_A, "--consortium", CONSORTIUM_B)
    assert set(shown) == {"username", "password", "token"} and shown["username"] == "tohoku"
    principal = users.authenticate_password(settings, "tohoku", shown["password"])
    assert principal is not None and principal.consortia == (CONSORTIUM_B, CONSORTIUM_A)
    assert users.authenticate_token(settings, shown["token"]) == principal
    store.dispose(settings)

    listed = kouiki(settings, "users", "list")
    assert listed.returncode == 0 and "tohoku" in listed.stdout and CONSORTIUM_A in listed.stdout
    as_json = kouiki(settings, "users", "list", "--json")
    [row] = json.loads(as_json.stdout)
    assert row["username"] == "tohoku" and row["revoked_at"] is None and row["active_tokens"] == 1
    for out in (listed.stdout + listed.stderr, as_json.stdout + as_json.stderr):
        assert shown["password"] not in out and shown["token"] not in out and "scrypt" not in out


def test_cabinet_and_operator_users(settings: Settings) -> None:
    cabinet = kouiki_json(settings, "users", "add", "cabinet-office", "--cabinet")
    operator = kouiki_json(settings, "users", "add", "ops", "--operator")
    as_cabinet = users.authenticate_token(settings, cabinet["token"])
    as_operator = users.authenticate_token(settings, operator["token"])
    assert as_cabinet is not None and as_cabinet.kind == "cabinet"
    assert as_operator is not None and as_operator.kind == "operator"
    store.dispose(settings)


def test_users_revoke(settings: Settings) -> None:
    shown = kouiki_json(settings, "users", "add", "tohoku", "--consortium", CONSORTIUM_A)
    revoked = kouiki(settings, "users", "revoke", "tohoku")
    assert revoked.returncode == 0, revoked.stderr
    assert users.authenticate_token(settings, shown["token"]) is None
    assert users.authenticate_password(settings, "tohoku", shown["password"]) is None
    store.dispose(settings)


def test_keys_add_list_revoke(settings: Settings) -> None:
    shown = kouiki_json(settings, "keys", "add", "--consortium", CONSORTIUM_A)
    operator = kouiki_json(settings, "keys", "add", "--operator")
    assert set(shown) == {"key_id", "secret"} and shown["key_id"].startswith(CONSORTIUM_A + ".")
    assert operator["key_id"].startswith("operator.")
    ring = keyring(settings)
    assert ring[shown["key_id"]].secret == shown["secret"] and ring[operator["key_id"]].operator
    store.dispose(settings)

    assert kouiki(settings, "keys", "revoke", shown["key_id"]).returncode == 0
    listed = kouiki(settings, "keys", "list")
    assert shown["key_id"] in listed.stdout and operator["key_id"] in listed.stdout
    assert shown["secret"] not in listed.stdout and operator["secret"] not in listed.stdout
    rows = {r["key_id"]: r for r in json.loads(kouiki(settings, "keys", "list", "--json").stdout)}
    assert rows[shown["key_id"]]["revoked_at"] is not None and rows[operator["key_id"]]["revoked_at"] is None
    assert "secret" not in json.dumps(rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "add", "x", "--consortium", "tohoku"), "'tohoku' is not a consortium code"),
        (("users", "revoke", "nobody"), "no user 'nobody'"),
        (("keys", "add", "--consortium", "KR-TOHOKU"), "'KR-TOHOKU' is not a consortium code"),
        (("keys", "revoke", "KR-TOHOKU-01.0000000000000000"), "no key"),
        (("users", "add", "admin", "--operator"), "reserved"),
    ],
)
def test_errors_are_one_clear_line_and_exit_2(settings: Settings, args: tuple[str, ...], message: str) -> None:
    proc = kouiki(settings, *args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_duplicate_name_is_refused(settings: Settings) -> None:
    kouiki_json(settings, "users", "add", "tohoku", "--consortium", CONSORTIUM_A)
    proc = kouiki(settings, "users", "add", "tohoku", "--cabinet")
    assert (
        proc.returncode == 2 and proc.stderr == "error: user 'tohoku' already exists (a revoked name is not reused)\n"
    )


def test_an_unreachable_store_is_a_clear_error(tmp_path: Path) -> None:
    unreachable = identity_settings(tmp_path, identity_db_url="postgresql://postgres@127.0.0.1:9/none")
    proc = kouiki(unreachable, "users", "list")
    assert proc.returncode == 2 and proc.stderr.startswith("error: the identity store cannot be used")
    assert "Traceback" not in proc.stderr


def test_a_kind_is_required(settings: Settings) -> None:
    proc = kouiki(settings, "users", "add", "tohoku")
    assert proc.returncode == 2 and "one of the arguments --consortium --cabinet --operator is required" in proc.stderr
