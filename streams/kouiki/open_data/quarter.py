"""The quarter a snapshot is of, and the rows that belong to it.

The quarter is the latest whose reports were due by the as-of date, taken from the serving file's
own calendar (``marts.dim_fiscal_period``), so the due-date rule is dbt's: the quarter's end plus
``report_due_days`` (30) days. A table with a ``period`` keeps the periods that ended by the
quarter's end; one with only a ``fiscal_year`` keeps the fiscal years up to the quarter's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from kouiki.open_data.errors import OpenDataError

if TYPE_CHECKING:
    import duckdb

CALENDAR = "marts.dim_fiscal_period"


@dataclass(frozen=True)
class Quarter:
    period: str  # FY2026Q2
    fiscal_year: int
    end_date: date
    due_date: date

    def row_filter(self, columns: list[str]) -> str:
        """The WHERE clause limiting a table with these columns to this quarter and before."""
        if "period" in columns:
            ended = f"select period from {CALENDAR} where end_date <= date '{self.end_date.isoformat()}'"  # noqa: S608
            return f"where period in ({ended})"
        if "fiscal_year" in columns:
            return f"where fiscal_year <= {self.fiscal_year:d}"
        return ""


def latest_due(con: duckdb.DuckDBPyConnection, as_of: date) -> Quarter:
    """The latest fiscal quarter whose reports were due by ``as_of``."""
    found = con.execute(
        f"select period, fiscal_year, end_date, due_date from {CALENDAR} "  # noqa: S608 - a constant
        "where period_type = 'quarter' and due_date <= ? order by end_date desc limit 1",
        [as_of],
    ).fetchone()
    if found is None:
        raise OpenDataError(
            f"{as_of} までに報告期限を迎えた四半期がありません / no fiscal quarter's reports are due by {as_of}"
        )
    period, fiscal_year, end_date, due_date = found
    return Quarter(period, fiscal_year, end_date, due_date)
