"""The identity store on PostgreSQL (KOUIKI_IDENTITY_DB_URL), the production choice: the same API and
command line as the embedded store, in a database of its own that is dropped afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from kouiki.identity import audit, store, users
from kouiki.identity.principal import SECRETARIAT, Principal
from kouiki.identity.signing_keys import add_key, ensure_operator_key, keyring, revoke_key
from tests.support.identity import CONSORTIUM_A, identity_settings, kouiki, kouiki_json, postgres_database

pytestmark = pytest.mark.integration


def test_the_store_on_postgresql(tmp_path: Path) -> None:
    with postgres_database() as url:
        settings = identity_settings(tmp_path, identity_db_url=url)
        try:
            new = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
            principal = Principal("tohoku", SECRETARIAT, (CONSORTIUM_A,))
            assert users.authenticate_password(settings, "tohoku", new.password) == principal
            assert users.authenticate_password(settings, "tohoku", "wrong") is None
            assert users.authenticate_token(settings, new.token) == principal
            key = add_key(settings, CONSORTIUM_A)
            operator = ensure_operator_key(settings)
            assert ensure_operator_key(settings) == operator
            revoke_key(settings, key.key_id)
            ring = keyring(settings)
            assert ring[key.key_id].secret == key.secret and ring[key.key_id].revoked_at is not None
            assert ring[key.key_id].created_at.tzinfo is not None
            users.revoke_user(settings, "tohoku")
            assert users.authenticate_token(settings, new.token) is None
            assert [e.action for e in audit.entries(settings)][:2] == ["user.add", "login.password"]

            # nothing in clear in the database, and nothing of it in the data directory
            with store.engine(settings).connect() as conn:
                dump = repr([conn.execute(sa.select(t)).all() for t in store.metadata.sorted_tables])
            for clear in (new.password, new.token, key.secret, operator.secret):
                assert clear not in dump
            assert not settings.identity_db_path.exists()

            shown = kouiki_json(settings, "users", "add", "kyushu", "--consortium", "KR-KYUSHU-02")
            assert users.authenticate_token(settings, shown["token"]) is not None
            assert "kyushu" in kouiki(settings, "users", "list").stdout
        finally:
            store.dispose(settings)
