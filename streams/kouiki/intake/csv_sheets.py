"""Quarterly reports from a CSV sheet, for secretariats who work in Excel.

One row per funding line, KPI value or milestone; the rows of one project, period and version make
one report. Columns (``sheet_layout.CSV``; the header row is required and may use the machine keys
below or the Japanese labels of the Excel template):

    consortium_code, project_code, period, version,
    status, percent_complete, summary_ja,        progress: on the group's first row
    line_type,                                   funding | kpi | milestone (or 資金 / KPI / マイルストーン)
    source_type, stage, amount_jpy,              funding lines
    kpi_code, value,                             KPI values
    pref_code,                                   optional, funding and KPI lines
    milestone_code, title_ja, planned_date, milestone_status, actual_date     milestones

Values are read as ``cell_values`` reads them (``¥12,000,000``, ``順調``, ``13 東京都``...). The
file may be UTF-8 (with or without the BOM Excel's "CSV UTF-8" writes) or CP932, Japanese Excel's
plain "CSV". The event_id is derived from the rows' content, so submitting the same sheet twice is a
no-op.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from kouiki.intake.drafts import Draft, problem_records
from kouiki.intake.files import Record
from kouiki.intake.sheet_layout import CSV
from kouiki.intake.sheet_rows import Locate, Problem, Row, match_header, read_row

KEYS = ("project_code", "period", "version")
LINE_KEYS = {
    "funding": ("funding", ("source_type", "stage", "pref_code", "amount_jpy")),
    "kpi": ("kpis", ("kpi_code", "pref_code", "value")),
    "milestone": ("progress.milestones", ("milestone_code", "title_ja", "planned_date", "status", "actual_date")),
}


def read_csv(path: Path, submitted_by: str) -> Iterator[Record]:
    """One Record per report; a value that cannot be read becomes a located error record."""
    return records_of(path, path.read_bytes(), submitted_by)


def decode(raw: bytes) -> str | None:
    """The text of a CSV file: UTF-8 (BOM or not) if it is strictly that, else CP932, else None."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def records_of(path: Path, raw: bytes, submitted_by: str) -> Iterator[Record]:
    """:func:`read_csv` of bytes already in memory (a request body), named ``path`` in locations."""
    text = decode(raw)
    if text is None:
        yield Record(
            path,
            1,
            1,
            None,
            'neither UTF-8 nor Shift_JIS (CP932); in Excel save as "CSV UTF-8"',
            "UTF-8 でも Shift_JIS でもありません。Excel では「CSV UTF-8」形式で保存してください",
        )
        return
    lines = csv.reader(io.StringIO(text, newline=""))
    names = next(lines, [])
    header = match_header(CSV, names, _locator(1, names), "line 1")
    if header.problems:
        yield from problem_records(path, header.problems)
        return
    groups: dict[tuple[object, ...], list[Row]] = {}
    for number, cells in enumerate(lines, start=2):
        row = read_row(header, cells, number, _locator(number, names))
        if row is not None:
            groups.setdefault(tuple(row.values.get(k) for k in KEYS), []).append(row)
    if not groups:
        yield Record(path, 1, 1, None, "the file holds no rows", "データ行がありません")
    for index, group in enumerate(groups.values(), start=1):
        yield from _report(group).records(path, index, submitted_by)


def _locator(number: int, names: list[str]) -> Locate:
    return lambda index: f"line {number}, column {names[index].strip() if index < len(names) else index + 1}"


def _report(group: list[Row]) -> Draft:
    first = group[0]
    draft = Draft({}, first.first, first.number)
    draft.fields("$", draft.doc, first, ("consortium_code", "project_code", "period", "version"))
    draft.doc["progress"] = {}
    draft.cells["$.progress"] = first.places["status"]
    draft.fields("$.progress", draft.doc["progress"], first, ("status", "percent_complete", "summary_ja"))
    draft.doc["funding"], draft.doc["kpis"] = [], []
    for row in group:
        kind = row.values.get("line_type")
        if kind not in LINE_KEYS:
            draft.problems.extend(row.problems)
            if "line_type" not in row.values:
                draft.problems.append(_no_line_type(row))
            continue
        section, keys = LINE_KEYS[str(kind)]
        if kind == "milestone":  # the milestone's status has its own column beside the progress status
            row = _as_milestone(row)
        draft.item(section, row, keys)
    return draft


def _as_milestone(row: Row) -> Row:
    values = {k: v for k, v in row.values.items() if k != "status"}
    places = {k: v for k, v in row.places.items() if k != "status"}
    if "milestone_status" in values:
        values["status"] = values.pop("milestone_status")
    places["status"] = places.pop("milestone_status", row.first)
    problems = [replace(p, key="status") if p.key == "milestone_status" else p for p in row.problems]
    return replace(row, values=values, places=places, problems=problems)


def _no_line_type(row: Row) -> Problem:
    return Problem(
        row.places.get("line_type", row.first),
        "line_type is empty; write funding, kpi or milestone",
        "行の種類（line_type）が空欄です。funding / kpi / milestone のいずれかを記入してください",
    )
