"""The CSV sheet: encodings Japanese Excel writes, formatted numbers, Japanese headers, milestones,
and every problem located to a line and column."""

import json
from pathlib import Path
from typing import Any

import pytest

from kouiki.config import Settings
from kouiki.contract.rules import ProjectEntry, Registry
from kouiki.intake import submit
from kouiki.intake.uploads import read_upload

HEADER = (
    "consortium_code,project_code,period,version,status,percent_complete,summary_ja,line_type,"
    "source_type,stage,amount_jpy,kpi_code,value,pref_code,milestone_code,title_ja,planned_date,"
    "milestone_status,actual_date"
)
ROWS = [
    'KR-TST-01,KR-TST-01-P01,FY2026Q3,1,順調,40,計画どおり,funding,national_grant,計画,"￥12,000,000",,,13 東京都,,,,,',
    "KR-TST-01,KR-TST-01-P01,FY2026Q3,1,,,,funding,民間,executed,１２０００,,,,,,,,",
    'KR-TST-01,KR-TST-01-P01,FY2026Q3,1,,,,kpi,,,,TRAINEES,"1,200",,,,,,',
    "KR-TST-01,KR-TST-01-P01,FY2026Q3,1,,,,milestone,,,,,,,M01,研修開始,2026/10/1,完了,2026/10/3",
    ",,,,,,,,,,,,,,,,,,",
]
EXPECTED: dict[str, Any] = {
    "consortium_code": "KR-TST-01",
    "project_code": "KR-TST-01-P01",
    "period": "FY2026Q3",
    "version": 1,
    "progress": {
        "status": "on_track",
        "percent_complete": 40.0,
        "summary_ja": "計画どおり",
        "milestones": [
            {
                "milestone_code": "M01",
                "title_ja": "研修開始",
                "planned_date": "2026-10-01",
                "status": "done",
                "actual_date": "2026-10-03",
            }
        ],
    },
    "funding": [
        {"source_type": "national_grant", "stage": "planned", "pref_code": "13", "amount_jpy": 12_000_000},
        {"source_type": "private", "stage": "executed", "amount_jpy": 12_000},
    ],
    "kpis": [{"kpi_code": "TRAINEES", "value": 1200.0}],
}
ENVELOPE = ("schema_version", "event_id", "submitted_at", "submitted_by")


def _csv(rows: list[str], header: str = HEADER) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


def _doc(raw: bytes | None) -> dict[str, Any]:
    assert raw is not None
    doc: dict[str, Any] = json.loads(raw)
    return {k: v for k, v in doc.items() if k not in ENVELOPE}


@pytest.mark.parametrize(
    "encoded",
    [
        _csv(ROWS).encode("utf-8"),
        b"\xef\xbb\xbf" + _csv(ROWS).encode("utf-8"),
        _csv(ROWS).encode("cp932"),
    ],
    ids=["utf-8", "utf-8-bom", "cp932"],
)
def test_one_report_from_every_encoding(encoded: bytes) -> None:
    records = read_upload("r.csv", encoded, "secretariat@example", max_unpacked=1 << 20)
    assert [r.error for r in records] == [None]
    assert _doc(records[0].raw) == EXPECTED
    assert json.loads(records[0].raw or b"")["submitted_by"] == "secretariat@example"


def test_cells_name_the_line_and_column() -> None:
    (record,) = read_upload("r.csv", _csv(ROWS).encode(), "s", max_unpacked=1 << 20)
    assert record.cells["$.funding[1].amount_jpy"] == "line 3, column amount_jpy"
    assert record.cells["$.progress.status"] == "line 2, column status"
    assert record.cells["$.progress.milestones[0].status"] == "line 5, column milestone_status"
    assert record.where_of("$.kpis[0].value") == "r.csv: line 4, column value"
    assert record.where_of("$") == "r.csv: line 2, column consortium_code"


def test_the_same_sheet_twice_is_the_same_event() -> None:
    first = read_upload("a.csv", _csv(ROWS).encode(), "s", max_unpacked=1 << 20)[0]
    again = read_upload("b.csv", _csv(ROWS).encode("cp932"), "s", max_unpacked=1 << 20)[0]
    assert json.loads(first.raw or b"")["event_id"] == json.loads(again.raw or b"")["event_id"]


def test_japanese_headers_are_accepted() -> None:
    header = (
        "連携体コード,事業コード,期間,版,状況,進捗率（%）,概要,行の種類,財源,段階,金額（円）,KPIコード,実績値,"
        "都道府県,マイルストーンコード,名称,予定日,マイルストーン状況,完了日"
    )
    (record,) = read_upload("r.csv", _csv(ROWS, header).encode("cp932"), "s", max_unpacked=1 << 20)
    assert _doc(record.raw) == EXPECTED
    assert record.cells["$.funding[0].amount_jpy"] == "line 2, column 金額（円）"


def test_missing_and_unknown_columns_are_located_to_the_header() -> None:
    header = HEADER.replace("line_type,", "").replace("amount_jpy", "amount")
    records = read_upload("r.csv", _csv([], header).encode(), "s", max_unpacked=1 << 20)
    assert {r.where for r in records} == {"r.csv: line 1, column amount", "r.csv: line 1"}
    assert all(r.raw is None and r.error and r.error_ja for r in records)
    missing = next(r for r in records if r.where == "r.csv: line 1")
    assert "line_type" in (missing.error or "") and "行の種類" in (missing.error_ja or "")


def test_a_bad_value_is_located_and_the_report_not_sent() -> None:
    rows = [ROWS[0], ROWS[1].replace("１２０００", "abc")]
    (record,) = read_upload("r.csv", _csv(rows).encode(), "s", max_unpacked=1 << 20)
    (problem,) = record.problems
    assert record.where_of(problem.path) == "r.csv: line 3, column amount_jpy"
    assert "円" in problem.message_ja


def test_undecodable_bytes_are_one_error() -> None:
    records = read_upload("r.csv", HEADER.encode() + b"\r\n\x81\x7f\xff\xfe", "s", max_unpacked=1 << 20)
    assert len(records) == 1 and records[0].raw is None
    assert "UTF-8" in (records[0].error or "") and "UTF-8" in (records[0].error_ja or "")


def test_submit_locates_contract_errors_to_the_cell(tmp_path: Path) -> None:
    registry = Registry(
        consortia={"KR-TST-01": frozenset({"13", "14"})},
        projects={"KR-TST-01-P01": ProjectEntry("KR-TST-01", 2025, 2029, frozenset({"TRAINEES"}))},
    )
    path = tmp_path / "報告.csv"
    path.write_bytes(_csv([ROWS[0].replace(",40,", ",150,")]).encode("cp932"))
    outcome = submit.check([path], Settings(data_dir=tmp_path / "data"), registry=registry)
    assert [p.where for p in outcome.problems] == [f"{path}: line 2, column percent_complete"]
    assert outcome.checked == 1 and not outcome.prepared
    path.write_bytes(_csv([ROWS[0], ROWS[2].replace("TRAINEES", "UNKNOWN_KPI")]).encode("cp932"))
    outcome = submit.check([path], Settings(data_dir=tmp_path / "data"), registry=registry)
    assert [p.where for p in outcome.problems] == [f"{path}: line 3, column kpi_code"]
    # an unreadable amount and a percent over 100 are reported together, and nothing is prepared to send
    path.write_bytes(_csv([ROWS[0].replace(",40,", ",150,"), ROWS[1].replace("１２０００", "abc")]).encode("cp932"))
    outcome = submit.check([path], Settings(data_dir=tmp_path / "data"), registry=registry)
    assert sorted(p.where for p in outcome.problems) == [
        f"{path}: line 2, column percent_complete",
        f"{path}: line 3, column amount_jpy",
    ]
    assert not outcome.prepared


def test_the_yen_sign_of_shift_jis_is_a_backslash_in_cp932() -> None:
    row = ROWS[0].replace("￥", "")
    encoded = _csv([row]).encode("cp932").replace(b'"12,000,000"', b'"\\12,000,000"')
    (record,) = read_upload("r.csv", encoded, "s", max_unpacked=1 << 20)
    assert _doc(record.raw)["funding"][0]["amount_jpy"] == 12_000_000
