"""Notices from a real raw lake, around a hand-written calendar: today is 2027-01-25 (FY2026Q4), so
FY2026Q3 is due 2027-01-31 (in 6 days), FY2026Q2 was due 2026-10-31 (86 days ago) and FY2026Q1
2026-07-31 (178 days ago); FY2026Q4 is due 2027-04-30, too far to be a notice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from kouiki.config import Settings
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC
from kouiki.notices import lake_index
from kouiki.notices.listing import all_notices, notices_for
from kouiki.notices.notice import DEAD_LETTER, REPORT_DUE, REPORT_OVERDUE, Notice
from tests.support.notices import Lake, project, report

A, B = "KR-TOHOKU-01", "KR-KYUSHU-02"
TODAY = date(2027, 1, 25)
EARLY = datetime(2026, 10, 20, 1, 0, tzinfo=UTC)  # when the on-time reports landed


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(Settings(data_dir=tmp_path / "data", notice_due_days=7))
    lake.register(
        project(f"{A}-P01", 2025, 2027),  # reports nothing
        project(f"{A}-P02", 2026, 2026),  # reports everything
        project(f"{A}-P03", 2023, 2025),  # ended before FY2026: owes nothing
        project(f"{A}-P04", 2026, 2028),  # moved to FY2028 by the registration below
        project(f"{B}-P01", 2026, 2028),
    )
    lake.register(project(f"{A}-P04", 2028, 2030, submitted_at="2026-05-01T09:00:00+09:00"))
    lake.reports(*(report(f"{A}-P02", p) for p in ("FY2026Q1", "FY2026Q2", "FY2026Q3")), at=EARLY)
    return lake


def summary(notices: list[Notice]) -> list[tuple[object, ...]]:
    return [(n.kind, n.consortium_code, n.project_code, n.period, n.day, n.days_left) for n in notices]


def test_due_soon_and_overdue_reports_newest_first(lake: Lake) -> None:
    assert summary(notices_for(lake.settings, [A], TODAY)) == [
        (REPORT_DUE, A, f"{A}-P01", "FY2026Q3", date(2027, 1, 31), 6),
        (REPORT_OVERDUE, A, f"{A}-P01", "FY2026Q2", date(2026, 10, 31), -86),
        (REPORT_OVERDUE, A, f"{A}-P01", "FY2026Q1", date(2026, 7, 31), -178),
    ]


def test_the_wording_says_when_in_both_languages(lake: Lake) -> None:
    due, overdue, _ = notices_for(lake.settings, [A], TODAY)
    assert due.title_ja == "KR-TOHOKU-01-P01 の FY2026Q3 四半期報告の提出期限が近づいています"
    assert due.title_en == "Quarterly report FY2026Q3 of KR-TOHOKU-01-P01 is due soon"
    assert due.detail_ja == "提出期限は 2027年1月31日（あと6日）です。まだ受け付けていません。"
    assert due.detail_en == "Due 2027-01-31 (in 6 days); not received yet."
    assert overdue.detail_ja.startswith("提出期限は 2026年10月31日 でした（86日超過）。")
    assert overdue.detail_en.startswith("It was due 2026-10-31 (86 days ago)")


def test_on_the_due_date_and_the_day_after(lake: Lake) -> None:
    on_the_day = notices_for(lake.settings, [A], date(2027, 1, 31))[0]
    assert (on_the_day.kind, on_the_day.period, on_the_day.days_left) == (REPORT_DUE, "FY2026Q3", 0)
    assert "本日が期限" in on_the_day.detail_ja and "due today" in on_the_day.detail_en
    day_after = notices_for(lake.settings, [A], date(2027, 2, 1))[0]
    assert (day_after.kind, day_after.period, day_after.days_left) == (REPORT_OVERDUE, "FY2026Q3", -1)


def test_eight_days_before_the_due_date_is_not_yet_a_notice(lake: Lake) -> None:
    assert [n.period for n in notices_for(lake.settings, [A], date(2027, 1, 23))] == ["FY2026Q2", "FY2026Q1"]


def test_overdue_reports_older_than_four_quarters_are_not_notices(lake: Lake) -> None:
    # 2027-05-10 is in FY2027Q1: the four quarters are FY2027Q1 and FY2026Q4..Q2; FY2026Q1 drops out.
    found = [(n.project_code, n.period) for n in notices_for(lake.settings, [A], date(2027, 5, 10))]
    assert found == [
        (f"{A}-P01", "FY2026Q4"),
        (f"{A}-P02", "FY2026Q4"),
        (f"{A}-P01", "FY2026Q3"),
        (f"{A}-P01", "FY2026Q2"),
    ]


def test_a_report_landed_later_ends_its_notice(lake: Lake) -> None:
    assert len(notices_for(lake.settings, [A], TODAY)) == 3
    lake.reports(report(f"{A}-P01", "FY2026Q3"), at=datetime(2027, 1, 24, tzinfo=UTC))  # a new lake file
    assert [n.period for n in notices_for(lake.settings, [A], TODAY)] == ["FY2026Q2", "FY2026Q1"]


def test_each_consortium_sees_its_own_projects_only(lake: Lake) -> None:
    assert summary(notices_for(lake.settings, [B], TODAY)) == [
        (REPORT_DUE, B, f"{B}-P01", "FY2026Q3", date(2027, 1, 31), 6),
        (REPORT_OVERDUE, B, f"{B}-P01", "FY2026Q2", date(2026, 10, 31), -86),
        (REPORT_OVERDUE, B, f"{B}-P01", "FY2026Q1", date(2026, 7, 31), -178),
    ]
    assert notices_for(lake.settings, [], TODAY) == []
    assert notices_for(lake.settings, ["KR-NOWHERE-09"], TODAY) == []
    assert len(notices_for(lake.settings, (A, B), TODAY)) == 6


def test_a_dead_letter_of_consortium_a_is_a_notice_for_a_and_never_for_b(lake: Lake) -> None:
    refused = report(f"{A}-P01", "FY2026Q3", event_id="0b4c3d1e-2f60-4a7b-8c9d-0e1f2a3b4c5d")
    [offset] = lake.land(
        REPORTS_TOPIC,
        [refused],
        datetime(2027, 1, 20, 3, 0, tzinfo=UTC),
        dead=("RuleViolation", "$.areas: area shares must sum to exactly 1 ／ 按分比率の合計が1になっていません"),
    )
    found = [n for n in notices_for(lake.settings, [A], TODAY) if n.kind == DEAD_LETTER]
    assert summary(found) == [(DEAD_LETTER, A, f"{A}-P01", "FY2026Q3", date(2027, 1, 20), None)]
    [notice] = found
    assert (notice.topic, notice.partition, notice.offset) == (REPORTS_TOPIC, 0, offset)
    assert notice.event_id == "0b4c3d1e-2f60-4a7b-8c9d-0e1f2a3b4c5d"
    assert notice.title_ja == "四半期報告が受け付けられませんでした（KR-TOHOKU-01-P01 FY2026Q3）"
    assert notice.title_en == "Quarterly report refused (KR-TOHOKU-01-P01 FY2026Q3)"
    assert "エラー分類: RuleViolation" in notice.detail_ja and "按分比率の合計" in notice.detail_ja
    assert "規則違反" in notice.detail_ja  # what to fix
    assert "Error class: RuleViolation" in notice.detail_en and "area shares must sum" in notice.detail_en
    assert "What to do: Correct what the message names" in notice.detail_en
    assert all(n.kind != DEAD_LETTER for n in notices_for(lake.settings, [B], TODAY))


def test_a_dead_letter_resent_and_landed_afterwards_is_no_longer_a_notice(lake: Lake) -> None:
    lake.land(
        REGISTRY_TOPIC,
        [project(f"{A}-P05", 2026, 2026)],
        datetime(2027, 1, 10, tzinfo=UTC),
        dead=("RuleViolation", "x"),
    )
    lake.land(REPORTS_TOPIC, [report(f"{A}-P01", "FY2026Q2")], datetime(2027, 1, 10, tzinfo=UTC), dead=("x", "y"))
    refused = [n.project_code for n in notices_for(lake.settings, [A], TODAY) if n.kind == DEAD_LETTER]
    assert refused == [f"{A}-P01", f"{A}-P05"]  # the same day: by project
    lake.register(project(f"{A}-P05", 2026, 2026), at=datetime(2027, 1, 11, tzinfo=UTC))
    lake.reports(report(f"{A}-P01", "FY2026Q2"), at=datetime(2027, 1, 11, tzinfo=UTC))
    assert [n for n in notices_for(lake.settings, [A], TODAY) if n.kind == DEAD_LETTER] == []


def test_dead_letters_older_than_90_days_or_after_today_are_not_shown(lake: Lake) -> None:
    lake.land(REPORTS_TOPIC, [report(f"{A}-P01", "FY2026Q1")], datetime(2026, 10, 26, tzinfo=UTC), dead=("a", "b"))
    lake.land(REPORTS_TOPIC, [report(f"{A}-P01", "FY2026Q2")], datetime(2026, 10, 27, tzinfo=UTC), dead=("a", "b"))
    lake.land(REPORTS_TOPIC, [report(f"{A}-P01", "FY2026Q3")], datetime(2027, 1, 26, tzinfo=UTC), dead=("a", "b"))
    # 2026-10-27 is 90 days before 2027-01-25; 2027-01-26 is tomorrow
    assert [n.period for n in notices_for(lake.settings, [A], TODAY) if n.kind == DEAD_LETTER] == ["FY2026Q2"]


def test_the_day_of_a_dead_letter_is_the_day_in_japan(lake: Lake) -> None:
    # 2027-01-19 16:00 UTC is 2027-01-20 01:00 in Tokyo
    lake.land(REPORTS_TOPIC, [report(f"{A}-P01", "FY2026Q3")], datetime(2027, 1, 19, 16, tzinfo=UTC), dead=("a", "b"))
    [notice] = [n for n in notices_for(lake.settings, [A], TODAY) if n.kind == DEAD_LETTER]
    assert notice.day == date(2027, 1, 20)


@pytest.mark.parametrize("reason", ["unsigned", "bad_signature", "unknown_key", "revoked_key", "not_authorized"])
def test_a_document_whose_sender_is_unproven_is_no_notice_for_the_consortium_it_names(lake: Lake, reason: str) -> None:
    lake.land(REPORTS_TOPIC, [report(f"{A}-P01", "FY2026Q3")], datetime(2027, 1, 21, tzinfo=UTC), dead=(reason, "x"))
    assert all(n.kind != DEAD_LETTER for n in notices_for(lake.settings, [A, B], TODAY))
    [notice] = [n for n in all_notices(lake.settings, TODAY) if n.kind == DEAD_LETTER]
    assert notice.consortium_code is None


def test_unreadable_dead_letters_go_to_operators_only(lake: Lake) -> None:
    at = datetime(2027, 1, 21, tzinfo=UTC)
    lake.land(REPORTS_TOPIC, [b'{"consortium_code": "KR-TOHOKU-01", "period": '], at, dead=("InvalidJson", "bad"))
    lake.land(REPORTS_TOPIC, [b"\xff\xfe\x00garbage"], at, dead=("NotUtf8", "not UTF-8"))
    lake.land(REPORTS_TOPIC, [b'["KR-TOHOKU-01"]', b'{"consortium_code": 7}', b""], at, dead=("SchemaViolation", "x"))
    assert all(n.kind != DEAD_LETTER for n in notices_for(lake.settings, [A, B], TODAY))
    unattributed = [n for n in all_notices(lake.settings, TODAY) if n.consortium_code is None]
    assert len(unattributed) == 5 and all(n.kind == DEAD_LETTER and n.project_code is None for n in unattributed)
    assert [n.offset for n in unattributed] == [7, 6, 5, 4, 3]  # the same day: the latest offset first
    assert unattributed[0].title_en == f"Document refused ({REPORTS_TOPIC}[0]@7)"
    assert unattributed[0].title_ja == f"文書が受け付けられませんでした（{REPORTS_TOPIC}[0]@7）"
    assert "UTF-8 で保存し直して" in unattributed[3].detail_ja and "JSON として読めません" in unattributed[4].detail_ja
    assert len(notices_for(lake.settings, [], TODAY, unattributed=True)) == 5


def test_a_dead_letter_naming_only_a_project_goes_to_its_consortium(lake: Lake) -> None:
    lake.land(
        REPORTS_TOPIC, [b'{"project_code": "KR-TOHOKU-01-P09"}'], datetime(2027, 1, 21, tzinfo=UTC), dead=("a", "b")
    )
    [notice] = [n for n in notices_for(lake.settings, [A], TODAY) if n.kind == DEAD_LETTER]
    assert (notice.consortium_code, notice.project_code, notice.period) == (A, f"{A}-P09", None)


def test_operators_see_every_consortium(lake: Lake) -> None:
    assert {n.consortium_code for n in all_notices(lake.settings, TODAY)} == {A, B}


def test_an_empty_data_directory_has_no_notices(tmp_path: Path) -> None:
    assert notices_for(Settings(data_dir=tmp_path / "empty"), [A], TODAY) == []


def test_a_new_process_reads_the_stored_summaries_not_the_lake(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    lake.land(REPORTS_TOPIC, [b"not json"], datetime(2027, 1, 21, tzinfo=UTC), dead=("InvalidJson", "x"))
    before = all_notices(lake.settings, TODAY)
    lake_index.forget()  # as in a new process

    def unread(path: Path) -> None:
        raise AssertionError(f"{path} read again")

    with monkeypatch.context() as patched:
        patched.setattr(lake_index, "_read_file", unread)
        assert all_notices(lake.settings, TODAY) == before

    lake_index.forget()
    for stored in lake_index.summaries_dir(lake.settings).rglob("*.msgpack"):
        stored.write_bytes(b"\x00garbage")  # unreadable: the lake file is read again
    assert all_notices(lake.settings, TODAY) == before
