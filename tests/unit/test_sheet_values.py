"""Cell values as secretariats type them, the formula-safe text helper and located records."""

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from kouiki.intake import cell_values as cv
from kouiki.intake.files import Record
from kouiki.intake.safe_text import safe_text


@pytest.mark.parametrize(
    ("typed", "yen"),
    [
        ("12,000,000", 12_000_000),
        ("¥12,000,000", 12_000_000),
        ("￥12,000,000", 12_000_000),
        ("12,000,000円", 12_000_000),
        ("１２０００", 12_000),
        ("  42 ", 42),
        (12_000_000.0, 12_000_000),
        (7, 7),
        ("0", 0),
    ],
)
def test_amounts_in_yen(typed: Any, yen: int) -> None:
    assert cv.yen(typed) == yen


@pytest.mark.parametrize("typed", [1.5, "1.5", "-5", -5, "abc", "12万", True, "¥"])
def test_amounts_that_are_not_whole_yen_say_so_in_both_languages(typed: Any) -> None:
    with pytest.raises(cv.CellError) as caught:
        cv.yen(typed)
    assert caught.value.en and caught.value.ja
    assert "円" in caught.value.ja or "負" in caught.value.ja


@pytest.mark.parametrize(
    ("typed", "number"),
    [("1,234.5", 1234.5), ("５０", 50.0), ("50%", 50.0), (12, 12.0), (0.25, 0.25), (" 7 ", 7.0)],
)
def test_numbers(typed: Any, number: float) -> None:
    assert cv.number(typed) == number


def test_a_number_that_is_text_is_refused() -> None:
    with pytest.raises(cv.CellError, match="not a number"):
        cv.number("たくさん")
    with pytest.raises(cv.CellError, match="whole number"):
        cv.whole("1.5")


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        (datetime(2026, 7, 1), "2026-07-01"),
        (date(2026, 12, 31), "2026-12-31"),
        ("2026/7/1", "2026-07-01"),
        ("2026-07-01", "2026-07-01"),
        ("２０２６/７/１", "2026-07-01"),
    ],
)
def test_dates(typed: Any, iso: str) -> None:
    assert cv.day(typed) == iso


@pytest.mark.parametrize("typed", ["2026/2/30", "7/1", "令和8年7月1日", 46204])
def test_what_is_not_a_date(typed: Any) -> None:
    with pytest.raises(cv.CellError, match="not a date"):
        cv.day(typed)


def test_codes_become_ascii() -> None:
    assert cv.code(" ＫＲ－ＴＯＨ－０１ ") == "KR-TOH-01"


def test_enumerations_accept_the_code_or_the_drop_down_label() -> None:
    status = cv.READERS["status"]
    assert status("順調") == "on_track"
    assert status("on_track") == "on_track"
    assert status(" 遅延 ") == "delayed"
    assert cv.READERS["stage"]("計画") == "planned"
    assert cv.READERS["stage"]("確定") == "committed"
    assert cv.READERS["stage"]("執行") == "executed"
    assert cv.READERS["source_type"]("国の交付金") == "national_grant"
    assert cv.READERS["milestone_status"]("完了") == "done"
    with pytest.raises(cv.CellError) as caught:
        status("まあまあ")
    assert "順調" in caught.value.ja


@pytest.mark.parametrize(
    ("typed", "code"),
    [("13", "13"), (13, "13"), ("13 東京都", "13"), ("東京都", "13"), ("１３", "13"), ("1", "01"), ("47 沖縄県", "47")],
)
def test_prefectures(typed: Any, code: str) -> None:
    assert cv.pref(typed) == code


@pytest.mark.parametrize("typed", ["48", "0", "東京", "Tokyo"])
def test_what_is_not_a_prefecture(typed: str) -> None:
    with pytest.raises(cv.CellError):
        cv.pref(typed)


def test_forty_seven_prefectures() -> None:
    assert len(cv.PREFECTURES) == 47
    assert cv.PREFECTURES["01"] == "北海道" and cv.PREFECTURES["47"] == "沖縄県"
    assert cv.pref_choice("13") == "13 東京都"


@pytest.mark.parametrize("risky", ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"])
def test_risky_text_is_quoted(risky: str) -> None:
    assert safe_text(risky) == "'" + risky


def test_plain_text_is_kept() -> None:
    assert safe_text("東北 第1事業") == "東北 第1事業"
    assert safe_text("1-2") == "1-2"


def test_where_of_takes_the_longest_recorded_path_on_segment_boundaries() -> None:
    cells = {
        "$": "報告!A5",
        "$.progress.status": "報告!F5",
        "$.funding[1]": "資金!A9",
        "$.funding[1].amount_jpy": "資金!E9",
        "$.funding[1": "wrong",
    }
    record = Record(Path("r.xlsx"), 2, 5, b"{}", place="報告!A5", cells=cells)
    assert record.where_of("$.funding[1].amount_jpy") == "r.xlsx: 資金!E9"
    assert record.where_of("$.funding[1].stage") == "r.xlsx: 資金!A9"
    assert record.where_of("$.funding[10].stage") == "r.xlsx: 報告!A5"
    assert record.where_of("$.progress.status") == "r.xlsx: 報告!F5"
    assert record.where_of("$.kpis[0]") == "r.xlsx: 報告!A5"


def test_where_of_without_cells_is_the_record() -> None:
    record = Record(Path("r.jsonl"), 3, 7, b"{}")
    assert record.where_of("$.funding[0]") == "r.jsonl: record 3 (line 7)"
