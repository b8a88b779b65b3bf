"""Notice digests on the production store, PostgreSQL: the e-mail column is added to a store of an
earlier version, and two runs racing on the same day send one digest (the unique rule decides)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from kouiki.identity import store, users
from kouiki.identity.principal import SECRETARIAT
from kouiki.notices import digests
from kouiki.notices.digests import DigestResult, send_digests
from tests.support.identity import CONSORTIUM_A, identity_settings, postgres_database
from tests.support.notices import Lake, project
from tests.support.platform import free_port
from tests.support.smtp import Sink, smtp_server

pytestmark = pytest.mark.integration

OLD_USERS = """
CREATE TABLE users (
    id SERIAL NOT NULL,
    username VARCHAR(64) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    consortia JSON NOT NULL,
    password_hash VARCHAR(200) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    revoked_at TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (id),
    CONSTRAINT users_kind CHECK (kind in ('operator', 'cabinet', 'secretariat')),
    UNIQUE (username)
)
"""


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_database() as created:
        yield created


def test_an_older_store_gets_the_email_column(tmp_path: Path, url: str) -> None:
    old = sa.create_engine(url)
    with old.begin() as conn:
        conn.execute(sa.text(OLD_USERS))
        conn.execute(
            sa.text(
                "INSERT INTO users (username, kind, consortia, password_hash, created_at) "
                "VALUES ('tohoku', 'secretariat', '[\"KR-TOHOKU-01\"]', 'x', now())"
            )
        )
    old.dispose()
    settings = identity_settings(tmp_path, identity_db_url=url)
    try:
        assert [(u.username, u.email) for u in users.list_users(settings)] == [("tohoku", None)]
        users.set_email(settings, "tohoku", "jimukyoku@example.jp")
        store.dispose(settings)
        assert users.list_users(settings)[0].email == "jimukyoku@example.jp"  # the second start adds nothing
    finally:
        store.dispose(settings)


def test_two_runs_racing_send_one_digest(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = identity_settings(tmp_path, identity_db_url=url, smtp_host="127.0.0.1", smtp_port=free_port())
    Lake(settings).register(project(f"{CONSORTIUM_A}-P01", 2026, 2026), at=datetime(2026, 4, 2, tzinfo=UTC))
    users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A], email="jimukyoku@example.jp")
    monkeypatch.setattr(digests, "_sent_on", lambda settings, day: set())  # both pass the early check
    start = threading.Barrier(2)
    results: list[DigestResult] = []

    def run() -> None:
        start.wait()
        results.append(send_digests(settings, date(2027, 1, 25)))

    try:
        with smtp_server(settings.smtp_port, Sink()) as sink:
            threads = [threading.Thread(target=run) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert len(sink.received) == 1
        assert sorted((len(r.sent), r.already_sent) for r in results) == [(0, [CONSORTIUM_A]), (1, [])]
    finally:
        store.dispose(settings)
