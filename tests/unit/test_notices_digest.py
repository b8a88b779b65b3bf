"""The daily digest, sent to a real SMTP server (aiosmtpd on a free loopback port) from a real
identity store and lake: one e-mail per consortium per day, to its own secretariats only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from kouiki.config import Settings
from kouiki.identity import audit, store, users
from kouiki.identity.principal import OPERATOR, SECRETARIAT
from kouiki.messaging.topics import REPORTS_TOPIC
from kouiki.notices import digests
from kouiki.notices.digests import send_digests
from tests.support.notices import Lake, project, report
from tests.support.platform import free_port
from tests.support.smtp import Sink, smtp_server

A, B, C = "KR-TOHOKU-01", "KR-KYUSHU-02", "KR-KANTO-03"
TODAY = date(2027, 1, 25)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = Settings(
        data_dir=tmp_path / "data",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_from="kouiki@example.jp",
        portal_port=8123,
        notice_due_days=7,
    )
    lake = Lake(s)
    lake.register(project(f"{A}-P01", 2026, 2026), project(f"{B}-P01", 2026, 2026))
    refused = report(f"{A}-P01", "FY2026Q3")
    lake.land(REPORTS_TOPIC, [refused], datetime(2027, 1, 20, tzinfo=UTC), dead=("UnknownCode", "KPI X"))
    for name, codes, address in (
        ("a1", [A], "a1@example.jp"),
        ("a2", [A], "a2@example.jp"),
        ("a-no-mail", [A], None),
        ("b1", [B], "b1@example.jp"),
        ("c1", [C], "c1@example.jp"),  # C has no projects, so no notices
    ):
        users.add_user(s, name, SECRETARIAT, codes, email=address)
    users.add_user(s, "a-left", SECRETARIAT, [A], email="left@example.jp")
    users.revoke_user(s, "a-left")
    users.add_user(s, "ops", OPERATOR, email="ops@example.jp")
    yield s
    store.dispose(s)


@pytest.fixture
def sink(settings: Settings) -> Iterator[Sink]:
    with smtp_server(settings.smtp_port, Sink()) as running:
        yield running


def digest_rows(settings: Settings) -> list[tuple[str, date, list[str], int]]:
    t = store.notice_digests
    with store.engine(settings).connect() as conn:
        rows = conn.execute(sa.select(t).order_by(t.c.day, t.c.consortium_code)).all()
    return [(r.consortium_code, r.day, list(r.recipients), r.notices) for r in rows]


def test_one_digest_per_consortium_per_day(settings: Settings, sink: Sink) -> None:
    first = send_digests(settings, TODAY)
    assert [(d.consortium_code, d.recipients, d.notices) for d in first.sent] == [
        (B, ("b1@example.jp",), 3),
        (A, ("a1@example.jp", "a2@example.jp"), 4),  # the three reports and the dead letter
    ]
    assert first.no_notices == [C] and not first.failed
    assert len(sink.received) == 2

    again = send_digests(settings, TODAY)
    assert again.sent == [] and again.already_sent == [B, A]
    assert len(sink.received) == 2

    next_day = send_digests(settings, TODAY + timedelta(days=1))
    assert [d.consortium_code for d in next_day.sent] == [B, A]
    assert len(sink.received) == 4
    assert digest_rows(settings) == [
        (B, TODAY, ["b1@example.jp"], 3),
        (A, TODAY, ["a1@example.jp", "a2@example.jp"], 4),
        (B, date(2027, 1, 26), ["b1@example.jp"], 3),
        (A, date(2027, 1, 26), ["a1@example.jp", "a2@example.jp"], 4),
    ]


def test_each_consortium_mails_its_own_secretariats_its_own_notices(settings: Settings, sink: Sink) -> None:
    send_digests(settings, TODAY)
    to_a, mail_a = sink.mail_of(A)
    to_b, mail_b = sink.mail_of(B)
    assert to_a == ["a1@example.jp", "a2@example.jp"] and to_b == ["b1@example.jp"]
    body_a, body_b = mail_a.get_content(), mail_b.get_content()
    assert A not in body_b and B not in body_a
    assert "b1@example.jp" not in str(mail_a) and "a1@example.jp" not in str(mail_b)
    assert f"{B}-P01" in body_b and f"{A}-P01" in body_a


def test_the_digest_is_japanese_first_with_english_beside_it(settings: Settings, sink: Sink) -> None:
    send_digests(settings, TODAY)
    _, mail = sink.mail_of(A)
    assert mail["Subject"] == f"【Kouiki】お知らせ 4件（{A}、2027年1月25日）/ 4 notices for {A}"
    assert mail["From"] == "kouiki@example.jp" and mail["To"] == "a1@example.jp, a2@example.jp"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "text/plain"
    body = mail.get_content()
    assert body.startswith(f"{A} 事務局 御中 / To the secretariat of {A}\n")
    assert "2027年1月25日現在、対応が必要なお知らせが 4 件あります。\nAs of 2027-01-25, there are 4 notices" in body
    due_ja = f"1. {A}-P01 の FY2026Q3 四半期報告の提出期限が近づいています\n"
    due_en = f"   Quarterly report FY2026Q3 of {A}-P01 is due soon\n"
    assert due_ja + due_en in body
    assert "   提出期限は 2027年1月31日（あと6日）です。まだ受け付けていません。\n" in body
    assert f"2. 四半期報告が受け付けられませんでした（{A}-P01 FY2026Q3）" in body
    assert f"   Kafka: {REPORTS_TOPIC}[0] offset 0, event_id " in body
    assert "ポータルで確認する / See them in the portal: http://127.0.0.1:8123/notices\n" in body


def test_each_digest_is_audited(settings: Settings, sink: Sink) -> None:
    send_digests(settings, TODAY, actor="airflow:kouiki_notices")
    logged = [e for e in audit.entries(settings) if e.action == "notice.digest"]
    assert [(e.subject, e.actor, e.detail) for e in logged] == [
        (B, "airflow:kouiki_notices", {"day": "2027-01-25", "recipients": ["b1@example.jp"], "notices": 3}),
        (
            A,
            "airflow:kouiki_notices",
            {"day": "2027-01-25", "recipients": ["a1@example.jp", "a2@example.jp"], "notices": 4},
        ),
    ]


def test_without_an_smtp_server_nothing_is_sent_and_nothing_fails(settings: Settings, sink: Sink) -> None:
    result = send_digests(dataclasses.replace(settings, smtp_host=""), TODAY)
    assert not result.configured and result.sent == [] and result.failed == {}
    assert result.lines() == ["notices: no SMTP server configured (KOUIKI_SMTP_HOST), no e-mail sent"]
    assert sink.received == [] and digest_rows(settings) == []


def test_an_smtp_server_that_is_down_records_nothing_and_the_next_run_sends(settings: Settings) -> None:
    down = send_digests(settings, TODAY)  # nothing listens on the port
    assert down.sent == [] and set(down.failed) == {A, B}
    assert "ConnectionRefusedError" in down.failed[A]
    assert digest_rows(settings) == []
    assert [e for e in audit.entries(settings) if e.action == "notice.digest"] == []
    with smtp_server(settings.smtp_port, Sink()) as sink:
        retried = send_digests(settings, TODAY)
    assert [d.consortium_code for d in retried.sent] == [B, A] and len(sink.received) == 2


def test_one_refused_digest_does_not_stop_the_others(settings: Settings) -> None:
    with smtp_server(settings.smtp_port, Sink(refuse=frozenset({"b1@example.jp"}))) as sink:
        result = send_digests(settings, TODAY)
        assert set(result.failed) == {B} and [d.consortium_code for d in result.sent] == [A]
        assert [code for code, *_ in digest_rows(settings)] == [A]
        sink.refuse = frozenset()
        assert [d.consortium_code for d in send_digests(settings, TODAY).sent] == [B]
    assert len(sink.received) == 2


def test_a_concurrent_run_that_sent_first_wins_by_the_unique_rule(
    settings: Settings, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.engine(settings).begin() as conn:  # another process inserted A's row after this one looked
        conn.execute(
            sa.insert(store.notice_digests).values(
                consortium_code=A, day=TODAY, sent_at=datetime.now(UTC), recipients=["a1@example.jp"], notices=4
            )
        )
    monkeypatch.setattr(digests, "_sent_on", lambda settings, day: set())
    result = send_digests(settings, TODAY)
    assert result.already_sent == [A] and [d.consortium_code for d in result.sent] == [B]
    assert [to for to, _ in sink.received] == [["b1@example.jp"]]


def test_the_smtp_login_is_used_when_configured(settings: Settings) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    with_login = dataclasses.replace(settings, smtp_user="kouiki", smtp_password="s3cret")
    with smtp_server(settings.smtp_port, Sink(), authenticator=authenticator, auth_require_tls=False) as sink:
        assert len(send_digests(with_login, TODAY).sent) == 2
    assert logins and set(logins) == {(b"kouiki", b"s3cret")} and len(sink.received) == 2
