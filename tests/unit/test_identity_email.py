"""E-mail addresses of users: set on ``users add``, changed with ``users set-email``, audited, listed,
and added as a column to a store created by an earlier version."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from kouiki.config import Settings
from kouiki.identity import audit, store, users
from kouiki.identity.errors import IdentityError
from kouiki.identity.principal import SECRETARIAT
from tests.support.identity import CONSORTIUM_A, identity_settings, kouiki

# The users table as the first release created it (SQLAlchemy's SQLite DDL of that version), and one
# person in it.
OLD_USERS = """
CREATE TABLE users (
    id INTEGER NOT NULL,
    username VARCHAR(64) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    consortia JSON NOT NULL,
    password_hash VARCHAR(200) NOT NULL,
    created_at DATETIME NOT NULL,
    revoked_at DATETIME,
    PRIMARY KEY (id),
    CONSTRAINT users_kind CHECK (kind in ('operator', 'cabinet', 'secretariat')),
    UNIQUE (username)
);
INSERT INTO users (username, kind, consortia, password_hash, created_at)
VALUES ('tohoku', 'secretariat', '["KR-TOHOKU-01"]', 'scrypt$16384$8$1$x$y', '2026-04-01 00:00:00.000000');
"""


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = identity_settings(tmp_path, bootstrap_servers="127.0.0.1:9")
    yield s
    store.dispose(s)


def test_an_address_is_set_changed_removed_and_audited(settings: Settings) -> None:
    users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A], email="jimukyoku@example.jp", actor="ops")
    assert users.list_users(settings)[0].email == "jimukyoku@example.jp"
    users.set_email(settings, "tohoku", "new.person@tohoku.example.jp", actor="ops")
    assert users.list_users(settings)[0].email == "new.person@tohoku.example.jp"
    users.set_email(settings, "tohoku", None, actor="ops")
    assert users.list_users(settings)[0].email is None
    logged = [(e.action, e.detail) for e in audit.entries(settings)]
    assert logged == [
        ("user.add", {"kind": SECRETARIAT, "consortia": [CONSORTIUM_A], "email": "jimukyoku@example.jp"}),
        ("user.set_email", {"email": "new.person@tohoku.example.jp"}),
        ("user.set_email", {"email": None}),
    ]


@pytest.mark.parametrize(
    "address",
    ["", "jimukyoku", "a@b", "a@example.jp\n", "a@example.jp\nBcc: x@example.jp", "A <a@example.jp>", "a,b@example.jp"],
)
def test_unusable_addresses_are_refused(settings: Settings, address: str) -> None:
    with pytest.raises(IdentityError, match="is not a usable e-mail address"):
        users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A], email=address)
    users.add_user(settings, "kyushu", SECRETARIAT, [CONSORTIUM_A])
    with pytest.raises(IdentityError, match="is not a usable e-mail address"):
        users.set_email(settings, "kyushu", address)
    assert [u.email for u in users.list_users(settings)] == [None]


def test_a_revoked_or_unknown_user_gets_no_address(settings: Settings) -> None:
    users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
    users.revoke_user(settings, "tohoku")
    with pytest.raises(IdentityError, match="revoked"):
        users.set_email(settings, "tohoku", "a@example.jp")
    with pytest.raises(IdentityError, match="no user"):
        users.set_email(settings, "nobody", "a@example.jp")


def test_a_store_of_an_earlier_version_gets_the_column_once(settings: Settings) -> None:
    settings.identity_db_path.parent.mkdir(parents=True)
    with sqlite3.connect(settings.identity_db_path) as old:
        old.executescript(OLD_USERS)
    [before] = users.list_users(settings)  # the first use adds the column
    assert (before.username, before.email) == ("tohoku", None)
    columns = [c["name"] for c in sa.inspect(store.engine(settings)).get_columns("users")]
    assert columns[-1] == "email" and columns.count("email") == 1
    users.set_email(settings, "tohoku", "jimukyoku@example.jp")

    store.dispose(settings)  # a new process: the step finds the column and does nothing
    store._add_missing_columns(store.engine(settings))
    assert [c["name"] for c in sa.inspect(store.engine(settings)).get_columns("users")].count("email") == 1
    assert users.list_users(settings)[0].email == "jimukyoku@example.jp"
    assert sa.inspect(store.engine(settings)).has_table("notice_digests")


def test_the_command_line_sets_and_lists_addresses(settings: Settings) -> None:
    added = kouiki(settings, "users", "add", "tohoku", "--consortium", CONSORTIUM_A, "--email", "a@example.jp")
    assert added.returncode == 0, added.stderr
    changed = kouiki(settings, "users", "set-email", "tohoku", "b@example.jp")
    assert changed.returncode == 0 and changed.stdout.strip() == "user tohoku: e-mail b@example.jp"
    listed = kouiki(settings, "users", "list")
    assert "b@example.jp" in listed.stdout.splitlines()[1]
    assert json.loads(kouiki(settings, "users", "list", "--json").stdout)[0]["email"] == "b@example.jp"
    refused = kouiki(settings, "users", "set-email", "tohoku", "not an address")
    assert refused.returncode == 2 and refused.stderr.startswith("error: 'not an address' is not a usable e-mail")
    assert "Traceback" not in refused.stderr
    removed = kouiki(settings, "users", "set-email", "tohoku", "--remove")
    assert removed.returncode == 0 and users.list_users(settings)[0].email is None
