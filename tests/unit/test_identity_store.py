"""The identity store: passwords, tokens and signing secrets round-trip, and every refusal refuses."""

from __future__ import annotations

import base64
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from kouiki.config import Settings
from kouiki.identity import audit, passwords, platform_key, store, users
from kouiki.identity.errors import IdentityError
from kouiki.identity.keys import OPERATOR_SCOPE
from kouiki.identity.principal import CABINET, OPERATOR, SECRETARIAT, Principal
from kouiki.identity.signing_keys import add_key, ensure_operator_key, keyring, list_keys, revoke_key
from tests.support.identity import CONSORTIUM_A, CONSORTIUM_B, identity_settings


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = identity_settings(tmp_path)
    yield s
    store.dispose(s)


# passwords


def test_password_round_trip_and_wrong_password(settings: Settings) -> None:
    new = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
    assert users.authenticate_password(settings, "tohoku", new.password) == Principal(
        "tohoku", SECRETARIAT, (CONSORTIUM_A,)
    )
    assert users.authenticate_password(settings, "tohoku", new.password + "x") is None
    assert users.authenticate_password(settings, "tohoku", "") is None


def test_unknown_user_cannot_log_in(settings: Settings) -> None:
    new = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
    assert users.authenticate_password(settings, "nobody", new.password) is None


def test_revoked_user_cannot_log_in_with_the_right_password(settings: Settings) -> None:
    new = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
    users.revoke_user(settings, "tohoku")
    assert users.authenticate_password(settings, "tohoku", new.password) is None


def test_a_reset_password_replaces_the_old_one(settings: Settings) -> None:
    new = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
    fresh = users.reset_password(settings, "tohoku")
    assert fresh != new.password
    assert users.authenticate_password(settings, "tohoku", new.password) is None
    assert users.authenticate_password(settings, "tohoku", fresh) is not None
    users.revoke_user(settings, "tohoku")
    with pytest.raises(IdentityError, match="revoked"):
        users.reset_password(settings, "tohoku")


def test_password_hash_is_scrypt_with_a_salt_per_user() -> None:
    first, second = passwords.hash_password("same"), passwords.hash_password("same")
    assert first.startswith(f"scrypt${2**14}$8$1$") and first != second
    assert passwords.verify_password("same", first) and passwords.verify_password("same", second)
    assert not passwords.verify_password("other", first)
    assert not passwords.verify_password("same", None)
    assert not passwords.verify_password("same", "md5$abc")


# tokens


def test_token_round_trip(settings: Settings) -> None:
    new = users.add_user(settings, "cabinet-1", CABINET)
    assert users.authenticate_token(settings, new.token) == Principal("cabinet-1", CABINET, ())


def test_unknown_token_is_refused(settings: Settings) -> None:
    new = users.add_user(settings, "cabinet-1", CABINET)
    assert users.authenticate_token(settings, new.token[:-1] + ("A" if new.token[-1] != "A" else "B")) is None
    assert users.authenticate_token(settings, "") is None


def test_revoked_token_is_refused_while_its_user_stays_active(settings: Settings) -> None:
    new = users.add_user(settings, "op", OPERATOR)
    second = users.issue_token(settings, "op")
    users.revoke_token(settings, new.token)
    assert users.authenticate_token(settings, new.token) is None
    assert users.authenticate_token(settings, second) == Principal("op", OPERATOR, ())
    assert users.authenticate_password(settings, "op", new.password) is not None


def test_revoking_a_user_revokes_their_tokens(settings: Settings) -> None:
    new = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
    second = users.issue_token(settings, "tohoku")
    users.revoke_user(settings, "tohoku")
    assert users.authenticate_token(settings, new.token) is None
    assert users.authenticate_token(settings, second) is None
    [listed] = users.list_users(settings)
    assert not listed.active and listed.active_tokens == 0
    with pytest.raises(IdentityError, match="revoked"):
        users.issue_token(settings, "tohoku")


def test_a_revoked_user_is_refused_even_if_a_token_row_was_left_active(settings: Settings) -> None:
    new = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
    with store.engine(settings).begin() as conn:  # only the user row revoked, as an older version might leave it
        conn.execute(sa.update(store.users).values(revoked_at=datetime.now(UTC)))
    assert users.authenticate_token(settings, new.token) is None


# signing keys


def test_signing_secret_round_trip_and_revoked_keys_stay_in_the_ring(settings: Settings) -> None:
    a = add_key(settings, CONSORTIUM_A)
    op = add_key(settings, OPERATOR_SCOPE)
    assert a.key_id.startswith(CONSORTIUM_A + ".") and op.key_id.startswith("operator.")
    revoke_key(settings, a.key_id)
    ring = keyring(settings)
    assert ring[a.key_id].secret == a.secret and ring[op.key_id].secret == op.secret
    assert ring[a.key_id].consortium_code == CONSORTIUM_A and not ring[a.key_id].operator
    assert ring[op.key_id].operator and ring[op.key_id].consortium_code is None
    assert ring[a.key_id].revoked_at is not None and ring[op.key_id].revoked_at is None
    now = datetime.now(UTC)
    assert ring[a.key_id].active_at(ring[a.key_id].created_at) and not ring[a.key_id].active_at(now)
    assert ring[a.key_id].created_at.tzinfo is not None
    with pytest.raises(IdentityError, match="revoked"):
        revoke_key(settings, a.key_id)
    with pytest.raises(IdentityError, match="no key"):
        revoke_key(settings, "KR-TOHOKU-01.0000000000000000")


def test_a_key_ring_never_shows_a_secret_in_its_repr(settings: Settings) -> None:
    new = add_key(settings, CONSORTIUM_A)
    assert new.secret not in repr(keyring(settings)) and new.key_id in repr(keyring(settings))


def test_an_empty_store_has_an_empty_ring(settings: Settings) -> None:
    assert keyring(settings) == {}


def test_the_platform_operator_key_is_created_once_and_replaced_when_revoked(settings: Settings) -> None:
    first = ensure_operator_key(settings)
    assert first.operator and ensure_operator_key(settings) == first
    assert keyring(settings)[first.key_id].secret == first.secret
    revoke_key(settings, first.key_id)
    second = ensure_operator_key(settings)
    assert second.key_id != first.key_id and second.operator
    assert [k.key_id for k in list_keys(settings, include_revoked=False)] == [second.key_id]


def test_the_configured_platform_key_is_used_and_checked(tmp_path: Path) -> None:
    configured = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    s = identity_settings(tmp_path, platform_key=configured)
    new = add_key(s, CONSORTIUM_B)
    assert keyring(s)[new.key_id].secret == new.secret
    assert not platform_key.key_path(s).exists()
    store.dispose(s)
    other = identity_settings(tmp_path, platform_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    with pytest.raises(IdentityError, match="cannot be decrypted"):
        keyring(other)
    store.dispose(other)
    with pytest.raises(IdentityError, match="KOUIKI_PLATFORM_KEY: 16 bytes"):
        platform_key.platform_key(
            identity_settings(tmp_path, platform_key=base64.urlsafe_b64encode(b"x" * 16).decode())
        )


def test_the_generated_files_are_private(settings: Settings) -> None:
    add_key(settings, CONSORTIUM_A)
    assert platform_key.key_path(settings).stat().st_mode & 0o777 == 0o600
    assert platform_key.key_path(settings).parent.stat().st_mode & 0o777 == 0o700
    assert settings.identity_db_path.parent.stat().st_mode & 0o777 == 0o700
    assert settings.identity_db_path.stat().st_mode & 0o777 == 0o600


# a copy of the store alone


def test_a_copy_of_the_store_lets_nobody_log_in_or_sign(settings: Settings, tmp_path: Path) -> None:
    person = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
    key = add_key(settings, CONSORTIUM_A)
    operator = ensure_operator_key(settings)
    store.dispose(settings)  # everything written to the main file (no WAL left behind)

    stolen = identity_settings(tmp_path / "elsewhere")
    stolen.identity_db_path.parent.mkdir(parents=True)
    shutil.copy(settings.identity_db_path, stolen.identity_db_path)
    raw = stolen.identity_db_path.read_bytes()
    for clear in (person.password, person.token, key.secret, operator.secret):
        assert clear.encode() not in raw
    assert passwords.token_digest(person.token).encode() in raw  # what is there instead: the digest
    assert b"scrypt$16384$8$1$" in raw

    with pytest.raises(IdentityError, match="no platform key"):
        keyring(stolen)
    platform_key.platform_key(stolen)  # a fresh platform key on the thief's side does not help
    with pytest.raises(IdentityError, match="cannot be decrypted"):
        keyring(stolen)
    with pytest.raises(IdentityError, match="cannot be decrypted"):
        ensure_operator_key(stolen)
    digest = passwords.token_digest(person.token)
    assert users.authenticate_token(stolen, digest) is None  # the stored digest is not a token
    store.dispose(stolen)


# validation


@pytest.mark.parametrize("code", ["KR-tohoku-01", "TOHOKU", "KR-TOHOKU-1", "KR-TOHOKU-01'; --", ""])
def test_bad_consortium_codes_are_clear_errors(settings: Settings, code: str) -> None:
    with pytest.raises(IdentityError, match="is not a consortium code: expected the pattern"):
        users.add_user(settings, "someone", SECRETARIAT, [code])
    with pytest.raises(IdentityError, match="is not a consortium code"):
        add_key(settings, code)
    assert users.list_users(settings) == [] and list_keys(settings) == []


def test_duplicate_and_inconsistent_users_are_refused(settings: Settings) -> None:
    users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A, CONSORTIUM_B, CONSORTIUM_A])
    assert users.list_users(settings)[0].consortia == (CONSORTIUM_B, CONSORTIUM_A)
    with pytest.raises(IdentityError, match="already exists"):
        users.add_user(settings, "tohoku", CABINET)
    users.revoke_user(settings, "tohoku")
    with pytest.raises(IdentityError, match="already exists"):
        users.add_user(settings, "tohoku", CABINET)
    with pytest.raises(IdentityError, match="at least one consortium"):
        users.add_user(settings, "s2", SECRETARIAT, [])
    with pytest.raises(IdentityError, match="belongs to no consortium"):
        users.add_user(settings, "c2", CABINET, [CONSORTIUM_A])
    with pytest.raises(IdentityError, match="reserved"):
        users.add_user(settings, "admin", OPERATOR)
    with pytest.raises(IdentityError, match="not a usable username"):
        users.add_user(settings, "Robert'); DROP TABLE users;--", OPERATOR)
    with pytest.raises(IdentityError, match="no user"):
        users.revoke_user(settings, "nobody")
    with pytest.raises(IdentityError, match="unknown kind"):
        users.add_user(settings, "x", "root")


# what each principal may do


def test_principals_mirror_the_signing_key_rule() -> None:
    op, cab = Principal("op", OPERATOR), Principal("cab", CABINET)
    sec = Principal("sec", SECRETARIAT, (CONSORTIUM_A,))
    assert op.may_write("consortium", CONSORTIUM_B) and op.may_read(CONSORTIUM_B)
    assert cab.may_read(CONSORTIUM_A) and cab.may_read(CONSORTIUM_B)
    assert not any(cab.may_write(kind, CONSORTIUM_A) for kind in ("consortium", "project", "report"))
    assert sec.may_write("report", CONSORTIUM_A) and sec.may_write("project", CONSORTIUM_A)
    assert not sec.may_write("consortium", CONSORTIUM_A)
    assert not sec.may_write("report", CONSORTIUM_B) and not sec.may_write("project", CONSORTIUM_B)
    assert sec.may_read(CONSORTIUM_A) and not sec.may_read(CONSORTIUM_B)


# the audit log


def test_every_change_and_login_is_audited(settings: Settings) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    new = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A], actor="ops@example", source="10.0.0.9")
    users.authenticate_password(settings, "tohoku", new.password, source="10.0.0.10")
    users.authenticate_password(settings, "tohoku", "wrong")
    users.authenticate_password(settings, "ghost", "wrong")
    users.authenticate_token(settings, new.token)
    users.authenticate_token(settings, "kouiki_not-a-token")
    key = add_key(settings, CONSORTIUM_A, actor="ops@example")
    revoke_key(settings, key.key_id, actor="ops@example")
    users.revoke_user(settings, "tohoku", actor="ops@example")
    users.authenticate_token(settings, new.token)
    log = audit.entries(settings, since=start)
    assert [(e.action, e.subject, e.detail.get("reason")) for e in log] == [
        ("user.add", "tohoku", None),
        ("login.password", "tohoku", "ok"),
        ("login.password.refused", "tohoku", "wrong_password"),
        ("login.password.refused", "ghost", "unknown_user"),
        ("login.token", "tohoku", None),
        ("login.token.refused", log[5].subject, "unknown_token"),
        ("key.add", key.key_id, None),
        ("key.revoke", key.key_id, None),
        ("user.revoke", "tohoku", None),
        ("login.token.refused", "tohoku", "revoked_user"),
    ]
    assert log[0].actor == "ops@example" and log[0].source == "10.0.0.9" and log[1].source == "10.0.0.10"
    assert log[0].detail == {"kind": SECRETARIAT, "consortia": [CONSORTIUM_A]}
    assert all(e.at.tzinfo is not None for e in log)
    text = repr(log)
    for clear in (new.password, new.token, key.secret):
        assert clear not in text
    assert [e.action for e in audit.entries(settings, limit=2)] == ["user.revoke", "login.token.refused"]
