"""A 2,000-report workbook is read and checked correctly (timing is bench/bench_workbook.py's job)."""

import io
from pathlib import Path

from openpyxl import Workbook

from kouiki.config import Settings
from kouiki.contract.rules import ProjectEntry, Registry
from kouiki.intake import submit

CONSORTIA = 20
PROJECTS = 100  # per consortium: 2,000 reports


def _code(c: int) -> str:
    return f"KR-C{c:03d}-01"


def test_two_thousand_reports(tmp_path: Path) -> None:
    book = Workbook(write_only=True)
    report, funding, kpis = (book.create_sheet(n) for n in ("報告", "資金", "KPI"))
    report.append(["consortium_code", "project_code", "period", "version", "status", "percent_complete", "summary_ja"])
    funding.append(["project_code", "source_type", "stage", "pref_code", "amount_jpy"])
    kpis.append(["project_code", "kpi_code", "pref_code", "value"])
    registry = Registry()
    for c in range(CONSORTIA):
        registry.consortia[_code(c)] = frozenset({"13", "14"})
        for p in range(PROJECTS):
            project = f"{_code(c)}-P{p:02d}"
            registry.projects[project] = ProjectEntry(_code(c), 2025, 2029, frozenset({"TRAINEES"}))
            report.append([_code(c), project, "FY2026Q3", 1, "順調", 50, "概要"])  # 概要 is also a header
            for stage in ("計画", "確定", "執行"):
                funding.append([project, "国の交付金", stage, "13 東京都", "1,000,000"])
            kpis.append([project, "TRAINEES", None, 12])
    report.append([_code(0), f"{_code(0)}-P00", "FY2026Q3", 1, "順調", 150, None])  # a duplicate, and wrong
    out = io.BytesIO()
    book.save(out)
    path = tmp_path / "big.xlsx"
    path.write_bytes(out.getvalue())
    outcome = submit.check([path], Settings(data_dir=tmp_path / "data"), registry=registry)
    assert len(outcome.prepared) == CONSORTIA * PROJECTS
    assert [p.where for p in outcome.problems] == [f"{path}: 報告!B2002"]
    assert outcome.checked == CONSORTIA * PROJECTS + 1
