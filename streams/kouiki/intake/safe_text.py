"""Text the platform writes into a sheet (Excel or CSV) never runs as a formula: a value starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (a registered title such as
``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0``) is written as text. Every sheet writer goes through
here: ``safe_text`` for CSV and plain text, ``put`` for an openpyxl cell."""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import Cell, MergedCell

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(text: str) -> bool:
    return text.startswith(_FORMULA_STARTS)


def safe_text(text: str) -> str:
    """``text`` for a CSV cell: a risky value gets a leading ``'`` (spreadsheets then show it as text)."""
    return f"'{text}" if is_risky(text) else text


def put(cell: Cell | MergedCell, value: Any) -> None:
    """Write ``value`` into ``cell``; risky text is stored as a string with Excel's quote prefix
    (shown as typed, never evaluated) and reads back unchanged."""
    cell.value = value
    if isinstance(value, str) and is_risky(value):
        cell.data_type = "s"
        cell.quotePrefix = True
