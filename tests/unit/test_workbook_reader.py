"""The workbook reader on workbooks made by hand: headers by label or key, merged cells, empty rows,
formulas with and without a cached value, and problems located to the cell."""

import io
import json
import re
import zipfile
from typing import Any

import openpyxl

from kouiki.contract.check import check_bytes
from kouiki.contract.rules import ProjectEntry, Registry
from kouiki.intake.uploads import read_upload

LIMIT = 64 * 1024 * 1024
REPORT_ROW = ["KR-TST-01", "KR-TST-01-P01", "FY2026Q3", 1, "順調", 50, None]


def _book(funding_header: list[str] | None = None, funding: list[list[Any]] | None = None) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    report = book.active
    assert report is not None
    report.title = "報告"
    report.append(["連携体コード", "事業コード", "期間", "版", "状況", "進捗率（%）", "概要"])
    report.append(REPORT_ROW)
    sheet = book.create_sheet("資金")
    sheet.append(funding_header or ["project_code", "source_type", "stage", "pref_code", "amount_jpy"])
    for row in funding or []:
        sheet.append(row)
    return book


def _read(book: openpyxl.Workbook) -> list[Any]:
    out = io.BytesIO()
    book.save(out)
    return read_upload("t.xlsx", out.getvalue(), "s", max_unpacked=LIMIT)


def _doc(record: Any) -> dict[str, Any]:
    assert record.error is None, record.error
    doc: dict[str, Any] = json.loads(record.raw)
    return doc


def test_headers_by_machine_key_and_rows_without_a_title() -> None:
    (record,) = _read(_book(funding=[["KR-TST-01-P01", "loan", "executed", None, "1,000"]]))
    assert _doc(record)["funding"] == [{"source_type": "loan", "stage": "executed", "amount_jpy": 1000}]
    assert record.cells["$.funding[0].amount_jpy"] == "資金!E2"
    assert record.cells["$.progress.percent_complete"] == "報告!F2"


def test_a_merged_project_code_applies_to_every_row_of_the_range() -> None:
    rows = [
        ["KR-TST-01-P01", "国の交付金", "計画", None, 100],
        [None, "都道府県", "計画", "13", 200],
        [None, "民間", "執行", None, 300],
    ]
    book = _book(funding=rows)
    book["資金"].merge_cells("A2:A4")
    (record,) = _read(book)
    assert [line["amount_jpy"] for line in _doc(record)["funding"]] == [100, 200, 300]
    assert record.cells["$.funding[2]"] == "資金!A4"


def test_empty_rows_and_rows_with_only_codes_are_skipped() -> None:
    rows = [
        ["KR-TST-01-P01", None, None, None, None],  # pre-filled, left blank
        [None, None, None, None, None],
        [],
        ["KR-TST-01-P01", "融資", "確定", None, "¥5,000"],
    ]
    (record,) = _read(_book(funding=rows))
    assert _doc(record)["funding"] == [{"source_type": "loan", "stage": "committed", "amount_jpy": 5000}]
    assert record.cells["$.funding[0]"] == "資金!A5"


def test_an_unknown_column_is_located_to_its_header_cell() -> None:
    header = ["事業コード", "財源", "段階", "都道府県", "金額（円）", "備考"]
    records = _read(_book(header, [["KR-TST-01-P01", "loan", "planned", None, 1, "memo"]]))
    assert [(r.where, r.raw) for r in records] == [("t.xlsx: 資金!F1", None)]
    assert "備考" in (records[0].error or "") and "備考" in (records[0].error_ja or "")


def test_a_missing_column_is_located_to_the_header_row() -> None:
    records = _read(_book(["事業コード", "財源", "都道府県", "金額(円)"], []))
    assert [r.where for r in records] == ["t.xlsx: 資金!A1:D1"]
    assert "stage" in (records[0].error or "") and "段階" in (records[0].error_ja or "")


def test_a_project_not_on_the_report_sheet_is_located() -> None:
    records = _read(_book(funding=[["KR-TST-01-P09", "loan", "planned", None, 1]]))
    assert [r.where for r in records if r.raw is None] == ["t.xlsx: 資金!A2"]


def test_a_formula_without_a_computed_value_is_located() -> None:
    (record,) = _read(_book(funding=[["KR-TST-01-P01", "loan", "planned", None, "=1000*3"]]))
    (problem,) = record.problems
    assert problem.path == "$.funding[0].amount_jpy" and record.where_of(problem.path) == "t.xlsx: 資金!E2"
    assert "Excel" in problem.message and "Excel" in problem.message_ja


def test_a_formula_is_read_as_its_cached_value_never_evaluated() -> None:
    out = io.BytesIO()
    _book(funding=[["KR-TST-01-P01", "loan", "planned", None, 3000]]).save(out)
    patched = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data, count = re.subn(
                    rb'<c r="E2"([^>]*)><v>3000</v></c>', rb'<c r="E2"\1><f>1+1</f><v>3000</v></c>', data
                )
                assert count == 1
            target.writestr(item, data)
    (record,) = read_upload("t.xlsx", patched.getvalue(), "s", max_unpacked=LIMIT)
    assert _doc(record)["funding"][0]["amount_jpy"] == 3000


def test_problems_in_several_cells_are_each_located() -> None:
    rows = [["KR-TST-01-P01", "宝くじ", "計画", "99", "1.5"]]
    (record,) = _read(_book(funding=rows))
    assert sorted(record.where_of(p.path) for p in record.problems) == [
        "t.xlsx: 資金!B2",
        "t.xlsx: 資金!D2",
        "t.xlsx: 資金!E2",
    ]
    assert all(p.message and p.message_ja for p in record.problems)


def test_unreadable_cells_and_contract_errors_are_reported_together() -> None:
    """Every problem at once: a percent over 100 (the contract's) beside an amount typed as text and
    a status not in the list (the reader's); the contract's own complaint about those two is left out."""
    book = _book(funding=[["KR-TST-01-P01", "loan", "planned", None, "十二百万"]])
    book["報告"]["E2"], book["報告"]["F2"] = "進行中", 150
    (record,) = _read(book)
    registry = Registry(
        consortia={"KR-TST-01": frozenset({"13", "14"})},
        projects={"KR-TST-01-P01": ProjectEntry("KR-TST-01", 2025, 2029, frozenset())},
    )
    found = record.violations(check_bytes(record.raw, registry).violations)
    assert sorted((record.where_of(v.path), v.path) for v in found) == [
        ("t.xlsx: 報告!E2", "$.progress.status"),
        ("t.xlsx: 報告!F2", "$.progress.percent_complete"),
        ("t.xlsx: 資金!E2", "$.funding[0].amount_jpy"),
    ]


def test_an_untouched_report_row_without_lines_makes_no_report() -> None:
    book = _book()
    book["報告"]["E2"] = None
    book["報告"]["F2"] = None
    records = _read(book)
    assert [r.error for r in records] == ["the workbook holds no filled rows"]


def test_a_merged_range_reaching_past_the_stored_cells_still_applies() -> None:
    book = _book(funding=[["KR-TST-01-P01", "融資", "計画", None, None]])
    sheet = book["資金"]
    sheet["E2"] = 4000
    sheet.merge_cells("E2:E3")
    sheet["A3"], sheet["B3"], sheet["C3"] = "KR-TST-01-P01", "融資", "確定"
    (record,) = _read(book)
    assert [line["amount_jpy"] for line in _doc(record)["funding"]] == [4000, 4000]
    assert record.cells["$.funding[1].amount_jpy"] == "資金!E3"
