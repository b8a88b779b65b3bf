"""Reading and checking a 2,000-report Excel workbook, beside bare openpyxl on the same file.

The workbook is laid out as the report template (title row, Japanese headers, hidden machine-key
row): 20 consortia of 100 projects, each report with 9 funding lines, 2 KPI values and a milestone
(about 26,000 rows). Timed, median of ``--runs``:

- bare openpyxl: load the file (read-only, cached values) and iterate every cell value, nothing else
- bare openpyxl, full mode: the same without read-only (what merged-cell support would cost)
- ``read_upload``: the documents with every cell located
- read + check: ``submit.check``, the path ``kouiki submit --dry-run`` takes (registry given)

    .venv/bin/python bench/bench_workbook.py
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from kouiki.config import Settings
from kouiki.contract.rules import ProjectEntry, Registry
from kouiki.intake import submit
from kouiki.intake.sheet_layout import FUNDING, KPIS, MILESTONES, REPORT, Sheet
from kouiki.intake.uploads import read_upload

CONSORTIA = 20
PROJECTS = 100
SOURCES = ("国の交付金", "都道府県", "民間")
STAGES = ("計画", "確定", "執行")
KPI_CODES = ("TRAINEES", "FIRMS")
LIMIT = 256 * 1024 * 1024


def _sheet(book: Workbook, layout: Sheet, title: str) -> Worksheet:
    sheet: Worksheet = book.create_sheet(layout.name)
    sheet.append([title])
    sheet.append([c.label for c in layout.columns])
    sheet.append([c.key for c in layout.columns])
    return sheet


def workbook() -> tuple[bytes, Registry]:
    """The workbook, and a registry that knows every code in it."""
    book = Workbook()  # not write-only: like Excel, it writes each sheet's dimension, which readers rely on
    book.remove(book.worksheets[0])
    report = _sheet(book, REPORT, "報告 FY2026Q3").append
    funding = _sheet(book, FUNDING, "資金").append
    kpis = _sheet(book, KPIS, "KPI").append
    milestones = _sheet(book, MILESTONES, "マイルストーン").append
    registry = Registry()
    for c in range(CONSORTIA):
        consortium = f"KR-B{c:03d}-01"
        registry.consortia[consortium] = frozenset({"13", "14"})
        for p in range(PROJECTS):
            project = f"{consortium}-P{p:02d}"
            registry.projects[project] = ProjectEntry(consortium, 2025, 2029, frozenset(KPI_CODES))
            report([consortium, project, f"事業 {project}", "FY2026Q3", 1, "順調", 35 + p % 50, "計画どおり進捗"])
            for i, source in enumerate(SOURCES):
                for stage in STAGES:
                    funding([project, source, stage, "13 東京都" if i % 2 else None, (p + 1) * 1_000_000 + i])
            for k, kpi in enumerate(KPI_CODES):
                kpis([project, kpi, "研修受講者数", "人", 500, 10, None, 100 + k])
            milestones([project, "M01", "研修開始", date(2026, 10, 1), "完了", date(2026, 10, 3)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), registry


def _bare(raw: bytes, read_only: bool) -> None:
    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=read_only, data_only=True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for _ in row:
                pass
    book.close()


def _median(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        gc.collect()  # start each run without the garbage of the one before (full mode leaves much)
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raw, registry = workbook()
    with tempfile.TemporaryDirectory(prefix="kouiki-bench-workbook-") as tmp:
        path = Path(tmp) / "報告.xlsx"
        path.write_bytes(raw)
        settings = Settings(data_dir=Path(tmp) / "data")
        outcome = submit.check([path], settings, registry=registry)
        if outcome.problems or len(outcome.prepared) != CONSORTIA * PROJECTS:
            raise SystemExit(f"the workbook did not check clean: {outcome.problems[:3]}")
        rows = [
            ("bare openpyxl, read-only", _median(args.runs, lambda: _bare(raw, True))),
            ("bare openpyxl, full mode", _median(args.runs, lambda: _bare(raw, False))),
            ("read_upload", _median(args.runs, lambda: read_upload(path.name, raw, "bench", max_unpacked=LIMIT))),
            ("read + check (dry run)", _median(args.runs, lambda: submit.check([path], settings, registry=registry))),
        ]
    print(f"{CONSORTIA * PROJECTS:,} reports, {len(raw) / 1e6:.1f} MB workbook, median of {args.runs}")
    print(f"{'':<28}{'seconds':>8}{'vs bare':>9}")
    for name, seconds in rows:
        print(f"{name:<28}{seconds:>8.2f}{seconds / rows[0][1]:>8.2f}x")


if __name__ == "__main__":
    main()
