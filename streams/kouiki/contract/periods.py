"""Japanese fiscal periods (April to March) as the contract writes them: ``FY2026`` (the year),
``FY2026H1``/``H2`` (halves) and ``FY2026Q1``..``Q4`` (Q1 = April-June, Q4 = January-March of the
next calendar year), and when a quarterly report is due.

A quarterly report is due on the last day of the month after its quarter ends (Q1 on 31 July, Q4 on
30 April), the rhythm of quarterly progress reporting to the Cabinet Office; ``due_date`` is the one
place that rule lives.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

_QUARTER = re.compile(r"^FY(\d{4})Q([1-4])$")


def fiscal_year(day: date) -> int:
    """The fiscal year ``day`` falls in (January-March belong to the previous year's)."""
    return day.year if day.month >= 4 else day.year - 1


def quarter_of(day: date) -> str:
    """The fiscal quarter holding ``day``, e.g. ``FY2026Q3`` for 2026-12-01."""
    return f"FY{fiscal_year(day)}Q{(day.month - 4) % 12 // 3 + 1}"


def parse_quarter(period: str) -> tuple[int, int]:
    """``(fiscal_year, quarter)`` of ``FY2026Q3``; ValueError for anything else."""
    match = _QUARTER.match(period)
    if match is None:
        raise ValueError(f"{period!r} is not a fiscal quarter such as FY2026Q3")
    return int(match.group(1)), int(match.group(2))


def quarter_bounds(period: str) -> tuple[date, date]:
    """First and last day of a fiscal quarter."""
    year, quarter = parse_quarter(period)
    first_month = (quarter - 1) * 3 + 4  # 4, 7, 10, 13 (January of the next year)
    start_year = year + (first_month - 1) // 12
    start_month = (first_month - 1) % 12 + 1
    end_month = start_month + 2
    return date(start_year, start_month, 1), date(start_year, end_month, calendar.monthrange(start_year, end_month)[1])


def due_date(period: str) -> date:
    """When the quarterly report for ``period`` is due: the last day of the month after the quarter."""
    end = quarter_bounds(period)[1]
    year, month = (end.year + 1, 1) if end.month == 12 else (end.year, end.month + 1)
    return date(year, month, calendar.monthrange(year, month)[1])


def shift(period: str, quarters: int) -> str:
    """The quarter ``quarters`` after (negative: before) ``period``."""
    year, quarter = parse_quarter(period)
    index = year * 4 + quarter - 1 + quarters
    return f"FY{index // 4}Q{index % 4 + 1}"


def recent_quarters(day: date, count: int = 4) -> list[str]:
    """The quarter holding ``day`` and the ``count - 1`` before it, newest first: the periods a
    secretariat may be reporting on (the last one is often still due after it ended)."""
    current = quarter_of(day)
    return [shift(current, -i) for i in range(count)]
