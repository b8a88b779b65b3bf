"""Fiscal periods: the calendar facts are written out by hand (April-March years)."""

from datetime import date

import pytest

from kouiki.contract import periods


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2026, 4, 1), "FY2026Q1"),
        (date(2026, 6, 30), "FY2026Q1"),
        (date(2026, 7, 1), "FY2026Q2"),
        (date(2026, 12, 1), "FY2026Q3"),
        (date(2027, 1, 1), "FY2026Q4"),
        (date(2027, 3, 31), "FY2026Q4"),
    ],
)
def test_quarter_of(day: date, quarter: str) -> None:
    assert periods.quarter_of(day) == quarter


def test_bounds_and_due_dates() -> None:
    assert periods.quarter_bounds("FY2026Q1") == (date(2026, 4, 1), date(2026, 6, 30))
    assert periods.quarter_bounds("FY2026Q4") == (date(2027, 1, 1), date(2027, 3, 31))
    assert periods.due_date("FY2026Q1") == date(2026, 7, 31)
    assert periods.due_date("FY2026Q3") == date(2027, 1, 31)
    assert periods.due_date("FY2026Q4") == date(2027, 4, 30)


def test_recent_quarters_cross_the_fiscal_year() -> None:
    assert periods.recent_quarters(date(2026, 5, 10), 3) == ["FY2026Q1", "FY2025Q4", "FY2025Q3"]
    assert periods.shift("FY2026Q4", 1) == "FY2027Q1"


def test_only_quarters_parse() -> None:
    with pytest.raises(ValueError, match="fiscal quarter"):
        periods.parse_quarter("FY2026H1")
