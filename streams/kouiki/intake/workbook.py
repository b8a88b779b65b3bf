"""Reports and project registrations from an Excel workbook (.xlsx), as the templates of
``intake.template`` lay them out (``intake.sheet_layout``).

A report workbook has one row per project on ``報告`` and the project's lines on ``資金``, ``KPI``
and ``マイルストーン``, joined by project code; a registration workbook has ``事業登録`` with
``登録_地域`` and ``登録_KPI``. Rows whose fill-in cells are empty are skipped, so the rows a
template pre-fills produce nothing until a secretariat fills them, and a project whose ``報告`` row
is untouched makes a report only if it has funding or KPI lines (the milestones the template
carries over alone do not). Every JSON path of every document is located to its cell.

The file is checked as a zip (``zip_safety``) before openpyxl parses any of it, read with cached
values only (a formula is never evaluated), and read in openpyxl's read-only mode, which is about
twice as fast but does not give merged ranges or tell a formula without a cached value from an
empty cell: both are found by scanning the sheet's XML once (``_sheet_xml_facts``).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries

from kouiki.intake.cell_values import CellError
from kouiki.intake.drafts import Draft, problem_records
from kouiki.intake.files import Record
from kouiki.intake.sheet_layout import (
    AREAS,
    FUNDING,
    KPIS,
    MILESTONES,
    PROJECT_KPIS,
    PROJECTS,
    REPORT,
    Sheet,
)
from kouiki.intake.sheet_rows import NO_VALUE, Problem, Row, is_header, match_header, read_row
from kouiki.intake.zip_safety import checked_zip

HEADER_SEARCH_ROWS = 10  # a header row is looked for this far down (a title row may come first)
MAX_COLUMNS = 64  # no sheet of the templates is wider; a merged range beyond is not spread further

Grid = list[list[Any]]


@dataclass(frozen=True)
class Head:
    """The sheet with one row per document and which of its columns go where in the document."""

    sheet: Sheet
    constant: tuple[tuple[str, str], ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (JSON path of an object, its keys)
    lists: tuple[str, ...]


@dataclass(frozen=True)
class Part:
    """A sheet of lines joined to the head's documents by project code."""

    sheet: Sheet
    section: str
    keys: tuple[str, ...]
    makes_document: bool = True


REPORT_HEAD = Head(
    REPORT,
    (),
    (
        ("$", ("consortium_code", "project_code", "period", "version")),
        ("$.progress", ("status", "percent_complete", "summary_ja")),
    ),
    ("funding", "kpis"),
)
REPORT_PARTS = (
    Part(FUNDING, "funding", ("source_type", "stage", "pref_code", "amount_jpy")),
    Part(KPIS, "kpis", ("kpi_code", "pref_code", "value")),
    Part(
        MILESTONES,
        "progress.milestones",
        ("milestone_code", "title_ja", "planned_date", "status", "actual_date"),
        makes_document=False,
    ),
)
PROJECT_HEAD = Head(
    PROJECTS,
    (("entity", "project"),),
    ((
        "$",
        ("consortium_code", "project_code", "title_ja", "title_en", "theme", "policy_code", "start_fy", "end_fy",
         "planned_budget_jpy"),
    ),),
    ("areas", "kpis"),
)  # fmt: skip
PROJECT_PARTS = (
    Part(AREAS, "areas", ("pref_code", "share")),
    Part(
        PROJECT_KPIS,
        "kpis",
        (
            "kpi_code",
            "name_ja",
            "unit",
            "aggregation",
            "direction",
            "baseline",
            "target",
            "target_fy",
            "contributes_to",
        ),
    ),
)

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')
_FORMULA = re.compile(
    rb"<(?:\w+:)?c\b([^>]*?)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*(?:<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>)?"
)
_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')


def read_workbook(name: str, raw: bytes, submitted_by: str, *, max_unpacked: int) -> list[Record]:
    """One Record per filled report or registered project; a problem becomes a located error record."""
    file = Path(name)
    try:
        archive = checked_zip(raw, max_unpacked)
    except CellError as exc:
        return [Record(file, 1, 1, None, exc.en, exc.ja)]
    with archive:
        try:
            grids = _grids(raw, archive)
        except Exception:  # noqa: BLE001 - whatever a malformed or hostile file breaks, the answer is the same
            return [
                Record(
                    file,
                    1,
                    1,
                    None,
                    "the workbook cannot be read; open it in Excel and save it again as .xlsx",
                    "ブックを読み込めません。Excel で開き、.xlsx 形式で保存し直してください",
                )
            ]
    records: list[Record] = []
    if REPORT.name in grids:
        records.extend(_documents(REPORT_HEAD, REPORT_PARTS, grids, file, submitted_by))
    if PROJECTS.name in grids:
        records.extend(_documents(PROJECT_HEAD, PROJECT_PARTS, grids, file, submitted_by))
    if REPORT.name not in grids and PROJECTS.name not in grids:
        return [
            Record(
                file,
                1,
                1,
                None,
                f"no sheet named {REPORT.name} (reports) or {PROJECTS.name} (registrations); use the template",
                f"シート「{REPORT.name}」（報告）または「{PROJECTS.name}」（事業登録）がありません。様式を使ってください",
            )
        ]
    return records or [Record(file, 1, 1, None, "the workbook holds no filled rows", "記入された行がありません")]


_SHEETS = {s.name for s in (REPORT_HEAD.sheet, PROJECT_HEAD.sheet, *(p.sheet for p in REPORT_PARTS + PROJECT_PARTS))}


def _grids(raw: bytes, archive: zipfile.ZipFile) -> dict[str, Grid]:
    """The cell values of the sheets the readers know, by sheet name, merged ranges filled in."""
    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True, keep_links=False)
    try:
        grids: dict[str, Grid] = {}
        for sheet in book.worksheets:
            if sheet.title not in _SHEETS:
                continue
            sheet.reset_dimensions()  # the stored dimension may be wrong; read every row there is
            grid = [list(row) for row in sheet.iter_rows(values_only=True)]
            path = getattr(sheet, "_worksheet_path", None)  # read-only sheets keep their part's name
            if isinstance(path, str):
                _apply_xml_facts(grid, archive.read(path.lstrip("/")))
            grids[sheet.title] = grid
        return grids
    finally:
        book.close()


def _apply_xml_facts(grid: Grid, xml: bytes) -> None:
    """Fill each merged range with its first cell's value; mark formulas saved without a value."""
    if b"<f" in xml:
        for match in _FORMULA.finditer(xml):
            ref = _REF.search(match.group(1))
            if ref and not (match.group(2) or b"").strip():
                row, column = coordinate_to_tuple(ref.group(1).decode())
                if row <= len(grid) and column <= len(grid[row - 1]):
                    grid[row - 1][column - 1] = NO_VALUE
    for match in _MERGE.finditer(xml):
        first_col, first_row, last_col, last_row = range_boundaries(match.group(1).decode())
        if first_row is None or first_col is None or first_row > len(grid):
            continue
        value = _cell(grid, first_row, first_col)
        last_col = min(last_col or first_col, MAX_COLUMNS)
        for r in range(first_row, min(last_row or first_row, len(grid)) + 1):
            cells = grid[r - 1]
            cells.extend([None] * (last_col - len(cells)))  # a row's trailing merged cells may not be stored
            for c in range(first_col, last_col + 1):
                cells[c - 1] = value


def _cell(grid: Grid, row: int, column: int) -> Any:
    cells = grid[row - 1]
    return cells[column - 1] if column <= len(cells) else None


def _locator(sheet: str, row: int) -> Callable[[int], str]:
    return lambda index: f"{sheet}!{get_column_letter(index + 1)}{row}"


def sheet_rows(sheet: Sheet, grid: Grid) -> tuple[list[Row], list[Problem]]:
    """The data rows under the sheet's header (a hidden second header row of machine keys is skipped)."""
    start = next((i for i, cells in enumerate(grid[:HEADER_SEARCH_ROWS]) if is_header(sheet, cells)), None)
    if start is None:
        return [], [
            Problem(
                f"{sheet.name}!A1",
                f"no header row on sheet {sheet.name}; use the template's headers",
                f"シート「{sheet.name}」に見出し行がありません。様式の見出しを使ってください",
            )
        ]
    cells = grid[start]
    last = get_column_letter(max(len(cells), 1))
    header = match_header(sheet, cells, _locator(sheet.name, start + 1), f"{sheet.name}!A{start + 1}:{last}{start + 1}")
    if header.problems:
        return [], header.problems
    first_data = start + 2 if start + 1 < len(grid) and is_header(sheet, grid[start + 1], every=True) else start + 1
    rows = []
    for index in range(first_data, len(grid)):
        row = read_row(header, grid[index], index + 1, _locator(sheet.name, index + 1))
        if row is not None:
            rows.append(row)
    return rows, []


def _documents(head: Head, parts: tuple[Part, ...], grids: dict[str, Grid], file: Path, by: str) -> list[Record]:
    rows, problems = sheet_rows(head.sheet, grids[head.sheet.name])
    lines: list[tuple[Part, list[Row]]] = []
    for part in parts:
        if part.sheet.name in grids:
            part_rows, part_problems = sheet_rows(part.sheet, grids[part.sheet.name])
            problems.extend(part_problems)
            lines.append((part, part_rows))
    if problems:  # a sheet that cannot be read would leave documents incomplete
        return problem_records(file, problems)
    drafts = _drafts(head, rows, problems)
    for part, part_rows in lines:
        for row in (r for r in part_rows if r.filled):
            draft = drafts.get(row.values.get("project_code", ""))
            if draft is None:
                problems.append(_project_problem(row, head.sheet, None))
                continue
            draft.item(part.section, row, part.keys)
            draft.filled = draft.filled or part.makes_document
    records = problem_records(file, problems)
    kept = [draft for draft in drafts.values() if draft.filled]
    for index, draft in enumerate(kept, start=1):
        records.extend(draft.records(file, index, by))
    return records


def _drafts(head: Head, rows: list[Row], problems: list[Problem]) -> dict[str, Draft]:
    """A draft per project row of the head sheet, ``filled`` when its own fill-in cells are."""
    drafts: dict[str, Draft] = {}
    for row in rows:
        code = row.values.get("project_code")
        if code is None and not row.filled and not row.problems:
            continue  # a template row pre-filled with the consortium only
        if code is None or code in drafts:
            problems.append(_project_problem(row, head.sheet, code))
            continue
        drafts[code] = _draft(head, row)
        drafts[code].filled = row.filled
    return drafts


def _draft(head: Head, row: Row) -> Draft:
    draft = Draft(dict(head.constant), row.first, row.number)
    for path, keys in head.groups:
        target = draft.doc
        if path != "$":
            target = draft.doc.setdefault(path.removeprefix("$."), {})
            draft.cells[path] = row.places[keys[0]]
        draft.fields(path, target, row, keys)
    for name in head.lists:
        draft.doc[name] = []
    return draft


def _project_problem(row: Row, head: Sheet, code: str | None) -> Problem:
    place = row.places.get("project_code", row.first)
    if code is not None:
        return Problem(
            place,
            f"project {code} is on sheet {head.name} more than once",
            f"事業 {code} がシート「{head.name}」に2回以上あります",
        )
    return Problem(
        place,
        f"project code missing or not on sheet {head.name}",
        f"事業コードが空欄か、シート「{head.name}」にない事業です",
    )
