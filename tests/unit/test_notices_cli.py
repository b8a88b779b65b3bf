"""``kouiki notices list`` and ``send``, run as an operator would: with only the data directory."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kouiki.config import Settings
from kouiki.identity import store, users
from kouiki.identity.principal import SECRETARIAT
from kouiki.messaging.topics import REPORTS_TOPIC
from tests.support.notices import Lake, project
from tests.support.platform import free_port, run_kouiki
from tests.support.smtp import Sink, smtp_server

A, B = "KR-TOHOKU-01", "KR-KYUSHU-02"


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = Settings(data_dir=tmp_path / "data", bootstrap_servers="127.0.0.1:9", notice_due_days=7)
    lake = Lake(s)
    lake.register(project(f"{A}-P01", 2026, 2026), project(f"{B}-P01", 2026, 2026))
    lake.land(REPORTS_TOPIC, [b"\xff"], datetime(2027, 1, 21, tzinfo=UTC), dead=("NotUtf8", "not UTF-8"))
    users.add_user(s, "tohoku", SECRETARIAT, [A], email="jimukyoku@example.jp")
    yield s
    store.dispose(s)


def test_list_one_consortium_as_a_table(settings: Settings) -> None:
    listed = run_kouiki(settings, "notices", "list", "--consortium", A, "--today", "2027-01-25", check=True)
    assert listed.stdout.splitlines() == [
        "date        kind           consortium     project            period    notice",
        f"2027-01-31  report_due     {A}   {A}-P01   FY2026Q3  {A}-P01 の FY2026Q3 四半期報告の提出期限が近づいています"
        f" / Quarterly report FY2026Q3 of {A}-P01 is due soon",
        f"2026-10-31  report_overdue {A}   {A}-P01   FY2026Q2  {A}-P01 の FY2026Q2 四半期報告が提出期限を過ぎています"
        f" / Quarterly report FY2026Q2 of {A}-P01 is overdue",
        f"2026-07-31  report_overdue {A}   {A}-P01   FY2026Q1  {A}-P01 の FY2026Q1 四半期報告が提出期限を過ぎています"
        f" / Quarterly report FY2026Q1 of {A}-P01 is overdue",
        "3 notices on 2027-01-25",
    ]


def test_list_everything_for_operators(settings: Settings) -> None:
    listed = run_kouiki(settings, "notices", "list", "--today", "2027-01-25", check=True)
    lines = listed.stdout.splitlines()
    assert lines[-1] == "7 notices on 2027-01-25"  # three of each consortium and one unreadable dead letter
    [unreadable] = [line for line in lines if line.startswith("2027-01-21")]
    assert unreadable.split()[1:5] == ["dead_letter", "-", "-", "-"]


def test_a_bad_date_is_an_argument_error(settings: Settings) -> None:
    refused = run_kouiki(settings, "notices", "list", "--today", "25.01.2027")
    assert refused.returncode == 2 and "is not a date such as 2027-01-25" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_send_without_and_with_an_smtp_server(settings: Settings) -> None:
    quiet = run_kouiki(settings, "notices", "send", "--today", "2027-01-25", check=True)
    assert quiet.stdout == "notices: no SMTP server configured (KOUIKI_SMTP_HOST), no e-mail sent\n"
    with_smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=free_port())
    with smtp_server(with_smtp.smtp_port, Sink()) as sink:
        sent = run_kouiki(with_smtp, "notices", "send", "--today", "2027-01-25", check=True)
        again = run_kouiki(with_smtp, "notices", "send", "--today", "2027-01-25", check=True)
    assert sent.stdout.splitlines() == [
        f"sent {A}: 3 notices to jimukyoku@example.jp",
        "notices 2027-01-25: 1 digests sent, 0 already sent, 0 failed, 0 consortia without notices",
    ]
    assert again.stdout.splitlines() == [
        f"already sent today: {A}",
        "notices 2027-01-25: 0 digests sent, 1 already sent, 0 failed, 0 consortia without notices",
    ]
    assert len(sink.received) == 1
