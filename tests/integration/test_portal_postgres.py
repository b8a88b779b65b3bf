"""The portal's tables on PostgreSQL (KOUIKI_IDENTITY_DB_URL): sessions, pending uploads, and the
columns and index added at startup to a ``gateway_documents`` table of an older release."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from kouiki.gateway import tables
from kouiki.gateway.portal import pending, sessions
from kouiki.identity import store, users
from kouiki.identity.principal import SECRETARIAT
from tests.support.identity import CONSORTIUM_A, identity_settings, postgres_database

pytestmark = pytest.mark.integration


def test_sessions_uploads_and_added_columns_on_postgresql(tmp_path: Path) -> None:
    with postgres_database() as url:
        settings = identity_settings(tmp_path, identity_db_url=url)
        try:
            users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
            session_id = sessions.start(settings, "tohoku", "127.0.0.1")
            found = sessions.current(settings, session_id)
            assert found is not None and found.principal.consortia == (CONSORTIUM_A,)
            upload_id = pending.keep(settings, "tohoku", "報告.xlsx", b"PK")
            kept = pending.take(settings, "tohoku", upload_id)
            assert kept is not None and kept.raw == b"PK" and pending.take(settings, "tohoku", upload_id) is None
            users.revoke_user(settings, "tohoku")
            assert sessions.current(settings, session_id) is None

            engine = store.engine(settings)
            old = sa.MetaData()
            sa.Table(
                "gateway_documents",
                old,
                *(
                    sa.Column(c.name, c.type, primary_key=c.primary_key)
                    for c in tables.documents.columns
                    if c.name not in ("project_code", "period")
                ),
            )
            old.create_all(engine)
            assert tables.add_missing_columns(engine, tables.metadata) == [
                "gateway_documents.project_code",
                "gateway_documents.period",
            ]
            assert tables.add_missing_columns(engine, tables.metadata) == []
        finally:
            store.dispose(settings)
