"""Daily data-quality checks on what dashboards show, and the alert written when a check fails.

The checks read the *serving* file read-only (never the warehouse dbt is writing):

* ``marts.fct_report_submission`` — one row per expected project report with ``submission_status``
  (``on_time`` | ``late`` | ``missing``) and ``days_late``: missing reports fail the run, late ones
  are reported as a warning (they did arrive);
* ``marts.fct_dead_letter_events`` — messages the lander refused (by ``ingested_at``): any new in the last day fails;
* the lake views ``lake_raw.*`` — the newest ``_ingested_at``: nothing landed for too long fails.

Airflow calls :func:`run_checks` then :func:`raise_on_failure`; a failed run alerts through the
DAG's failure callback (``kouiki.orchestration.alerts``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kouiki.config import Settings

if TYPE_CHECKING:  # duckdb is imported where it is used, so importing this module stays cheap
    import duckdb

log = logging.getLogger(__name__)

ERROR = "error"
WARNING = "warning"
REPORT_SUBMISSIONS = "marts.fct_report_submission"
DEAD_LETTERS = "marts.fct_dead_letter_events"
LAKE_VIEWS = ("lake_raw.registry_v1", "lake_raw.reports_v1")


class QualityFailure(RuntimeError):
    """At least one error-level check failed."""


@dataclass(frozen=True)
class Thresholds:
    max_missing_reports: int = 0
    max_new_dead_letters: int = 0
    dead_letter_window: timedelta = timedelta(days=1)  # the time since the previous daily run
    max_lake_age: timedelta = timedelta(days=7)  # as dbt's warn_after on the lake sources

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(
            max_missing_reports=settings.quality_max_missing_reports,
            max_new_dead_letters=settings.quality_max_new_dead_letters,
            dead_letter_window=timedelta(hours=settings.quality_dead_letter_window_hours),
            max_lake_age=timedelta(hours=settings.quality_max_lake_age_hours),
        )


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    severity: str  # what a failure means: ERROR fails the run, WARNING is only reported
    detail: str

    def describe(self) -> str:
        verdict = "ok" if self.passed else ("FAILED" if self.severity == ERROR else "warning")
        return f"{self.name}: {verdict} — {self.detail}"


# --- checks (each takes an open read-only connection) ---------------------------------------------


def _table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(found and found[0])


def _missing_table(name: str, table: str) -> CheckResult:
    return CheckResult(name, False, ERROR, f"{table} is not in the serving file; was the dbt project built?")


def check_missing_reports(con: duckdb.DuckDBPyConnection, limits: Thresholds) -> CheckResult:
    name = "missing reports"
    if not _table_exists(con, REPORT_SUBMISSIONS):
        return _missing_table(name, REPORT_SUBMISSIONS)
    rows = con.execute(
        f"select project_code, period from {REPORT_SUBMISSIONS} "  # noqa: S608 - constant name
        "where submission_status = 'missing' order by period, project_code"
    ).fetchall()
    sample = ", ".join(f"{project} {period}" for project, period in rows[:10])
    detail = f"{len(rows)} expected reports not submitted" + (f" (e.g. {sample})" if rows else "")
    return CheckResult(name, len(rows) <= limits.max_missing_reports, ERROR, detail)


def check_late_reports(con: duckdb.DuckDBPyConnection) -> CheckResult:
    name = "late reports"
    if not _table_exists(con, REPORT_SUBMISSIONS):
        return _missing_table(name, REPORT_SUBMISSIONS)
    count, worst = con.execute(
        f"select count(*), max(days_late) from {REPORT_SUBMISSIONS} "  # noqa: S608
        "where submission_status = 'late'"
    ).fetchone() or (0, None)
    detail = f"{count} reports arrived late" + (f", the latest by {worst} days" if count else "")
    return CheckResult(name, count == 0, WARNING, detail)


def check_dead_letter_growth(con: duckdb.DuckDBPyConnection, now: datetime, limits: Thresholds) -> CheckResult:
    name = "dead-letter growth"
    if not _table_exists(con, DEAD_LETTERS):
        return _missing_table(name, DEAD_LETTERS)
    since = now - limits.dead_letter_window
    total, recent = con.execute(
        f"select count(*), count(*) filter (where ingested_at > ?) "  # noqa: S608
        f"from {DEAD_LETTERS}",
        [since],
    ).fetchone() or (0, 0)
    hours = limits.dead_letter_window.total_seconds() / 3600
    detail = f"{recent} messages dead-lettered in the last {hours:g} h ({total} in all)"
    return CheckResult(name, recent <= limits.max_new_dead_letters, ERROR, detail)


def newest_ingested_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    views = [v for v in LAKE_VIEWS if _table_exists(con, v)]
    if not views:
        return None
    union = " union all ".join(f"select max(_ingested_at) as t from {v}" for v in views)  # noqa: S608
    row = con.execute(f"select max(t) from ({union})").fetchone()  # noqa: S608 - constant view names
    value = row[0] if row else None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def check_lake_freshness(con: duckdb.DuckDBPyConnection, now: datetime, limits: Thresholds) -> CheckResult:
    name = "lake freshness"
    newest = newest_ingested_at(con)
    if newest is None:
        return CheckResult(name, False, ERROR, "nothing has been landed in the lake")
    age = now - newest
    detail = f"newest event landed {newest.isoformat(timespec='seconds')} ({age.total_seconds() / 3600:.1f} h ago)"
    return CheckResult(name, age <= limits.max_lake_age, ERROR, detail)


def run_checks(serving_path: Path, now: datetime | None = None, limits: Thresholds | None = None) -> list[CheckResult]:
    """Every check against the published serving file, opened read-only."""
    now = now or datetime.now(UTC)
    limits = limits or Thresholds()
    import duckdb

    with duckdb.connect(str(serving_path), read_only=True) as con:
        return [
            check_missing_reports(con, limits),
            check_late_reports(con),
            check_dead_letter_growth(con, now, limits),
            check_lake_freshness(con, now, limits),
        ]


def raise_on_failure(results: list[CheckResult]) -> str:
    """Log every result; raise QualityFailure naming the failed error-level checks."""
    for result in results:
        (log.info if result.passed else log.warning)("%s", result.describe())
    failed = [r for r in results if not r.passed and r.severity == ERROR]
    if failed:
        raise QualityFailure("; ".join(r.describe() for r in failed))
    return "; ".join(r.describe() for r in results)
