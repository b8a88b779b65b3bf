"""The Excel templates: pre-filled from the registry and the lake, locked and validated where they
should be, formula-safe, and read back by the workbook reader into documents the contract accepts."""

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kouiki.config import Settings
from kouiki.contract.check import check_bytes
from kouiki.contract.model import Document, decode
from kouiki.contract.rules import Registry
from kouiki.intake import submit
from kouiki.intake.registered import prefill, prefill_of
from kouiki.intake.template import registration_workbook, report_workbook_of
from kouiki.intake.uploads import read_upload
from kouiki.lake.files import LANDED, partition_dir, write_columns
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC

HOSTILE_TITLE = "=cmd|' /C calc'!A0"
LIMIT = 64 * 1024 * 1024


def _envelope(n: int, day: str = "2025-04-15") -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "event_id": f"00000000-0000-4000-8000-{n:012d}",
        "submitted_at": f"{day}T10:00:00+09:00",
        "submitted_by": "test",
    }


def _kpi(code: str, name: str, baseline: float, target: float) -> dict[str, Any]:
    return {
        "kpi_code": code,
        "name_ja": name,
        "unit": "PERSON",
        "aggregation": "sum",
        "direction": "increase",
        "baseline": baseline,
        "target": target,
        "target_fy": 2029,
        "contributes_to": "KB-05",
    }


def _project(n: int, number: int, title: str, kpis: list[dict[str, Any]]) -> dict[str, Any]:
    return _envelope(n) | {
        "entity": "project",
        "project_code": f"KR-TST-01-P{number:02d}",
        "consortium_code": "KR-TST-01",
        "title_ja": title,
        "theme": "TALENT",
        "policy_code": "P1",
        "start_fy": 2025,
        "end_fy": 2029,
        "planned_budget_jpy": 500_000_000,
        "areas": [{"pref_code": "13", "share": 0.5}, {"pref_code": "14", "share": 0.5}],
        "kpis": kpis,
    }


REGISTRATIONS: list[dict[str, Any]] = [
    _envelope(1)
    | {
        "entity": "consortium",
        "consortium_code": "KR-TST-01",
        "name_ja": "試験連携体",
        "declared_on": "2025-04-01",
        "prefectures": ["13", "14"],
        "members": [{"name_ja": "東京都", "sector": "GOV", "role": "事務局"}],
    },
    _project(2, 1, "人材育成事業", [_kpi("TRAINEES", "研修受講者数", 10, 500), _kpi("FIRMS", "参画事業者数", 5, 50)]),
    _project(3, 2, HOSTILE_TITLE, [_kpi("INVEST_PRIV", "民間投資額", 0, 1000)]),
    _project(4, 1, "別の連携体の事業", []) | {"project_code": "KR-OTH-01-P01", "consortium_code": "KR-OTH-01"},
]
LANDED_REPORT = _envelope(5, "2026-11-01") | {
    "consortium_code": "KR-TST-01",
    "project_code": "KR-TST-01-P01",
    "period": "FY2026Q3",
    "version": 1,
    "progress": {
        "status": "on_track",
        "percent_complete": 30.0,
        "milestones": [
            {"milestone_code": "M01", "title_ja": "研修開始", "planned_date": "2026-10-01", "status": "on_track"}
        ],
    },
    "funding": [],
    "kpis": [],
}


def _docs(items: list[dict[str, Any]]) -> list[Document]:
    return [decode(json.dumps(d, ensure_ascii=False).encode()) for d in items]


def _registry() -> Registry:
    registry = Registry()
    for doc in _docs(REGISTRATIONS):
        registry.add(doc)
    return registry


@pytest.fixture
def template() -> openpyxl.Workbook:
    data = prefill_of("KR-TST-01", "FY2026Q3", _docs(REGISTRATIONS), _docs([LANDED_REPORT]))
    return openpyxl.load_workbook(io.BytesIO(report_workbook_of(data)))


def _saved(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_report_template_is_prefilled_from_the_registry_and_the_lake(template: openpyxl.Workbook) -> None:
    assert template.sheetnames == ["説明", "報告", "資金", "KPI", "マイルストーン", "選択肢"]
    report = template["報告"]
    assert [[c.value for c in row] for row in report.iter_rows(min_row=4, max_row=5, max_col=5)] == [
        ["KR-TST-01", "KR-TST-01-P01", "人材育成事業", "FY2026Q3", 2],
        ["KR-TST-01", "KR-TST-01-P02", HOSTILE_TITLE, "FY2026Q3", 1],
    ]
    assert report["A6"].value is None  # the other consortium's project is not there
    kpis = template["KPI"]
    assert [[c.value for c in row] for row in kpis.iter_rows(min_row=4, max_row=6, max_col=6)] == [
        ["KR-TST-01-P01", "TRAINEES", "研修受講者数", "PERSON", 500, 10],
        ["KR-TST-01-P01", "FIRMS", "参画事業者数", "PERSON", 50, 5],
        ["KR-TST-01-P02", "INVEST_PRIV", "民間投資額", "PERSON", 1000, 0],
    ]
    milestones = template["マイルストーン"]
    assert [c.value for c in milestones[4]][:3] == ["KR-TST-01-P01", "M01", "研修開始"]
    assert milestones["D4"].value == datetime(2026, 10, 1)
    assert milestones["E4"].value == "順調"
    assert [template["資金"].cell(r, 1).value for r in range(4, 10)] == ["KR-TST-01-P01"] * 3 + ["KR-TST-01-P02"] * 3
    instructions = "\n".join(str(c.value) for c in template["説明"]["A"] if c.value)
    assert "FY2026Q3" in instructions and "2027年01月31日" in instructions


def test_only_the_projects_running_in_the_period_are_prefilled() -> None:
    later = _project(5, 3, "次年度開始の事業", []) | {"start_fy": 2027, "end_fy": 2031}
    data = prefill_of("KR-TST-01", "FY2026Q3", _docs([*REGISTRATIONS, later]), [])
    assert [p.project_code for p in data.projects] == ["KR-TST-01-P01", "KR-TST-01-P02"]
    assert "KR-TST-01-P03" in [p.project_code for p in prefill_of("KR-TST-01", "FY2027Q1", _docs([later]), []).projects]


def test_codes_are_locked_fill_cells_unlocked_and_choices_validated(template: openpyxl.Workbook) -> None:
    report = template["報告"]
    assert report.protection.sheet and not report.protection.password
    assert report["B4"].protection.locked and report["C4"].protection.locked
    assert not report["F4"].protection.locked and not report["G4"].protection.locked
    assert report.row_dimensions[3].hidden and report.freeze_panes == "A4"
    validated = {str(v.sqref): v.formula1 for v in report.data_validations.dataValidation}
    assert validated == {"F4:F5": "'選択肢'!$A$2:$A$7"}
    funding = {str(v.sqref)[:1]: v.formula1 for v in template["資金"].data_validations.dataValidation}
    assert set(funding) == {"A", "B", "C", "D"}
    assert template["選択肢"].sheet_state == "hidden"
    assert template["資金"]["E4"].number_format == "#,##0"


def test_a_registered_title_that_is_a_formula_comes_out_as_text(template: openpyxl.Workbook) -> None:
    cell = template["報告"]["C5"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (HOSTILE_TITLE, "s", True)
    data = prefill_of("KR-TST-01", "FY2026Q3", _docs(REGISTRATIONS), [])
    with zipfile.ZipFile(io.BytesIO(report_workbook_of(data))) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in archive.read(n) for n in sheets)


def _fill_project_one(book: openpyxl.Workbook) -> None:
    report = book["報告"]
    report["F4"], report["G4"], report["H4"] = "順調", 40, "<script>alert('x')</script> 研修を実施"
    funding = book["資金"]
    funding["B4"], funding["C4"], funding["D4"], funding["E4"] = "国の交付金", "計画", "13 東京都", "¥12,000,000"
    funding["B5"], funding["C5"], funding["E5"] = "private", "確定", 3_500_000
    kpis = book["KPI"]
    kpis["H4"], kpis["G5"], kpis["H5"] = "１２０", "14 神奈川県", 7
    book["マイルストーン"]["E4"] = "完了"
    book["マイルストーン"]["F4"] = datetime(2026, 10, 2)


def test_a_filled_template_reads_back_as_documents_the_contract_accepts(template: openpyxl.Workbook) -> None:
    _fill_project_one(template)
    records = read_upload("報告.xlsx", _saved(template), "secretariat", max_unpacked=LIMIT)
    assert [r.error for r in records] == [None]  # project 2 was left untouched: no report
    (record,) = records
    doc = json.loads(record.raw or b"")
    assert check_bytes(record.raw or b"", _registry()).violations == []
    assert {k: v for k, v in doc.items() if k not in ("event_id", "submitted_at")} == {
        "schema_version": "1.0",
        "submitted_by": "secretariat",
        "consortium_code": "KR-TST-01",
        "project_code": "KR-TST-01-P01",
        "period": "FY2026Q3",
        "version": 2,
        "progress": {
            "status": "on_track",
            "percent_complete": 40.0,
            "summary_ja": "<script>alert('x')</script> 研修を実施",
            "milestones": [
                {
                    "milestone_code": "M01",
                    "title_ja": "研修開始",
                    "planned_date": "2026-10-01",
                    "status": "done",
                    "actual_date": "2026-10-02",
                }
            ],
        },
        "funding": [
            {"source_type": "national_grant", "stage": "planned", "pref_code": "13", "amount_jpy": 12_000_000},
            {"source_type": "private", "stage": "committed", "amount_jpy": 3_500_000},
        ],
        "kpis": [
            {"kpi_code": "TRAINEES", "value": 120.0},
            {"kpi_code": "FIRMS", "pref_code": "14", "value": 7.0},
        ],
    }
    assert record.cells["$.progress.status"] == "報告!F4"
    assert record.cells["$.funding[1].amount_jpy"] == "資金!E5"
    assert record.cells["$.kpis[1]"] == "KPI!A5"
    assert record.cells["$.version"] == "報告!E4"
    assert record.cells["$"] == "報告!A4"


def test_three_mistakes_are_located_to_their_cells(template: openpyxl.Workbook, tmp_path: Path) -> None:
    _fill_project_one(template)
    template["報告"]["G4"] = 150
    template["報告"]["F5"], template["報告"]["G5"] = "遅延", 10
    template["資金"]["B8"], template["資金"]["C8"], template["資金"]["E8"] = "融資", "執行", "abc"
    template["KPI"]["H6"] = "多い"
    path = tmp_path / "報告.xlsx"
    path.write_bytes(_saved(template))
    outcome = submit.check([path], Settings(data_dir=tmp_path / "data"), registry=_registry())
    assert [p.where for p in outcome.problems] == [f"{path}: KPI!H6", f"{path}: 報告!G4", f"{path}: 資金!E8"]
    assert all(p.violation.message and p.violation.message_ja for p in outcome.problems)
    assert not outcome.prepared


def test_the_registration_template_reads_back_as_a_project(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(io.BytesIO(registration_workbook("KR-TST-01")))
    assert book.sheetnames == ["説明", "事業登録", "登録_地域", "登録_KPI", "選択肢"]
    assert read_upload("r.xlsx", _saved(book), "s", max_unpacked=LIMIT)[0].error == "the workbook holds no filled rows"
    projects = book["事業登録"]
    assert projects["A4"].value == "KR-TST-01" and projects["A4"].protection.locked
    filled = ["KR-TST-01-P03", "観光振興", "Tourism", "観光", "G1", 2026, 2028, "300,000,000"]
    for column, value in enumerate(filled, start=2):
        projects.cell(4, column, value)
    book["登録_地域"].append(["KR-TST-01-P03", "東京都", 1])  # below the spare rows: read all the same
    kpi = ["KR-TST-01-P03", "VISITORS", "来訪者数", "人", "合計", "増加", 0, 1000, 2028, "KB-01"]
    for column, value in enumerate(kpi, start=1):
        book["登録_KPI"].cell(4, column, value)
    records = read_upload("r.xlsx", _saved(book), "s", max_unpacked=LIMIT)
    assert [r.error for r in records] == [None]
    doc = json.loads(records[0].raw or b"")
    assert doc["entity"] == "project" and doc["theme"] == "TOURISM" and doc["planned_budget_jpy"] == 300_000_000
    assert doc["areas"] == [{"pref_code": "13", "share": 1.0}]
    assert doc["kpis"][0]["aggregation"] == "sum" and doc["kpis"][0]["direction"] == "increase"
    assert check_bytes(records[0].raw or b"", _registry()).violations == []


def _land(settings: Settings, topic: str, docs: list[dict[str, Any]], key: str) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    write_columns(
        partition_dir(settings.raw_dir, topic, "e1", 0),
        topic,
        "e1",
        0,
        {
            "_offset": list(range(len(docs))),
            "_kafka_ts": [int(now.timestamp() * 1000)] * len(docs),
            "_key": [key.encode() if key else d["consortium_code"].encode() for d in docs],
            "_value": [json.dumps(d, ensure_ascii=False).encode() for d in docs],
            "_status": [LANDED] * len(docs),
            "_error_class": [None] * len(docs),
            "_error_message": [None] * len(docs),
        },
        now,
    )


def test_the_prefill_reads_registrations_and_reports_from_the_lake(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", bootstrap_servers="127.0.0.1:9")  # no broker
    _land(settings, REGISTRY_TOPIC, REGISTRATIONS, "")
    _land(settings, REPORTS_TOPIC, [LANDED_REPORT], "KR-TST-01-P01")
    data = prefill(settings, "KR-TST-01", "FY2026Q3")
    assert [p.project_code for p in data.projects] == ["KR-TST-01-P01", "KR-TST-01-P02"]
    assert data.versions == {"KR-TST-01-P01": 2}
    assert [m.milestone_code for m in data.milestones["KR-TST-01-P01"]] == ["M01"]
    assert prefill(settings, "KR-TST-01", "FY2026Q4").versions == {}


def test_the_template_commands_write_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kouiki import cli

    settings = Settings(data_dir=tmp_path / "data")
    _land(settings, REGISTRY_TOPIC, REGISTRATIONS, "")
    monkeypatch.setenv("KOUIKI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KOUIKI_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["template", "report", "--consortium", "KR-TST-01", "--period", "FY2026Q3"]) == 0
    book = openpyxl.load_workbook(tmp_path / "報告様式_KR-TST-01_FY2026Q3.xlsx")
    assert book["報告"]["B4"].value == "KR-TST-01-P01"
    assert cli.main(["template", "registration", "--consortium", "KR-TST-01", "-o", "reg.xlsx"]) == 0
    assert openpyxl.load_workbook(tmp_path / "reg.xlsx")["事業登録"]["A4"].value == "KR-TST-01"
    with pytest.raises(SystemExit):
        cli.main(["template", "report", "--consortium", "KR-TST-01", "--period", "FY2026"])
