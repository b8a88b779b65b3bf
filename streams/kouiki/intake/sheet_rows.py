"""Rows of a sheet (Excel or CSV) read against its ``sheet_layout.Sheet``: the header matched by
label or machine key, then each row's values normalised by ``cell_values``, every value and every
problem located by a function that names a cell (``報告!F5``, ``line 12, column amount_jpy``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kouiki.intake.cell_values import READERS, CellError, blank
from kouiki.intake.sheet_layout import FILL, Column, Sheet, heading

Locate = Callable[[int], str]  # column index (0-based) -> where that cell of the row is


class NoValue:
    """A formula cell saved without its computed value (written by a program, never opened in Excel)."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = NoValue()


@dataclass(frozen=True)
class Problem:
    place: str
    en: str
    ja: str
    key: str | None = None  # the column whose value could not be read, when it is one cell's value


@dataclass
class Header:
    """Which column of the sheet holds which ``Column``; ``problems`` when unknown or missing."""

    columns: dict[int, Column] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # key -> the header as written
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Row:
    """One data row: normalised values and where each came from, by column key."""

    number: int
    first: str  # where the row is (its first cell)
    values: dict[str, Any] = field(default_factory=dict)
    places: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    filled: bool = False  # whether any ``fill`` cell holds something


def _lookup(sheet: Sheet) -> dict[str, Column]:
    table = {heading(c.label): c for c in sheet.columns}
    table.update({heading(c.key): c for c in sheet.columns})
    return table


def is_header(sheet: Sheet, cells: Sequence[Any], *, every: bool = False) -> bool:
    """Whether a row names one of the sheet's columns (a title row above names none), or with
    ``every`` names nothing else (a second header row, not a data row that happens to hold a label)."""
    table = _lookup(sheet)
    named = [isinstance(v, str) and heading(v) in table for v in cells if not blank(v)]
    return bool(named) and (all(named) if every else any(named))


def match_header(sheet: Sheet, cells: Sequence[Any], locate: Locate, row_place: str) -> Header:
    table = _lookup(sheet)
    header = Header()
    for index, value in enumerate(cells):
        if blank(value):
            continue
        column = table.get(heading(str(value)))
        if column is None or column.key in header.names:
            header.problems.append(
                Problem(
                    locate(index),
                    f"unknown or repeated column {str(value)!r} on sheet {sheet.name}",
                    f"シート「{sheet.name}」の列「{value}」は不明か重複しています",
                )
            )
            continue
        header.columns[index] = column
        header.names[column.key] = str(value).strip()
    missing = [c for c in sheet.columns if c.required and c.key not in header.names]
    if missing:
        header.problems.append(
            Problem(
                row_place,
                f"missing columns on sheet {sheet.name}: {', '.join(c.key for c in missing)}",
                f"シート「{sheet.name}」に列がありません: {'、'.join(c.label for c in missing)}",
            )
        )
    return header


def read_row(header: Header, cells: Sequence[Any], number: int, locate: Locate) -> Row | None:
    """The row's values, or None when it holds nothing to read."""
    row = Row(number, locate(0))
    for index, column in header.columns.items():
        value = cells[index] if index < len(cells) else None
        if not column.read or blank(value):
            continue
        place = locate(index)
        row.places[column.key] = place
        row.filled = row.filled or column.role == FILL
        if value is NO_VALUE:
            row.problems.append(
                Problem(
                    place,
                    "formula has no computed value; open and save the file in Excel",
                    "数式の計算結果が保存されていません。Excel で開いて保存してください",
                    column.key,
                )
            )
            row.values[column.key] = ""
            continue
        try:
            row.values[column.key] = READERS[column.kind](value)
        except CellError as exc:
            row.problems.append(Problem(place, exc.en, exc.ja, column.key))
            # kept as written, so the document is still checked and every other problem found at once
            row.values[column.key] = str(value)
    for index, column in header.columns.items():  # cells left empty are located too
        row.places.setdefault(column.key, locate(index))
    return row if row.values or row.problems else None
