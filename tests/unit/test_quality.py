"""The quality checks, alerting and freshness parsing, without Airflow: against a small serving file
made here with the planned mart columns."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from kouiki.config import Settings
from kouiki.orchestration import alerts
from kouiki.warehouse import freshness, quality

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def insert(con: duckdb.DuckDBPyConnection, sql: str, rows: list[tuple[object, ...]]) -> None:
    if rows:  # executemany refuses an empty list
        con.executemany(sql, rows)


def make_serving(
    path: Path,
    submissions: list[tuple[str, str, str, int | None]],
    dead_letters: list[datetime],
    landed: list[datetime],
) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema lake_raw")
        con.execute(
            "create table marts.fct_report_submission (project_code varchar, period varchar, "
            "submission_status varchar, days_late integer)"
        )
        insert(con, "insert into marts.fct_report_submission values (?, ?, ?, ?)", list(submissions))
        con.execute(
            "create table marts.fct_dead_letter_events (kafka_topic varchar, kafka_offset bigint, "
            "error_class varchar, ingested_at timestamptz)"
        )
        insert(
            con,
            "insert into marts.fct_dead_letter_events values ('kouiki.reports.v1', ?, 'SchemaViolation', ?)",
            list(enumerate(dead_letters)),
        )
        con.execute("create table lake_raw.reports_v1 (_ingested_at timestamptz)")
        insert(con, "insert into lake_raw.reports_v1 values (?)", [(t,) for t in landed])
        con.execute("create view lake_raw.registry_v1 as select cast(null as timestamptz) as _ingested_at where false")
    return path


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    return make_serving(
        tmp_path / "serving.duckdb",
        [("KR-CGK-01-P01", "FY2026Q1", "on_time", 0), ("KR-CGK-01-P02", "FY2026Q1", "on_time", 0)],
        dead_letters=[NOW - timedelta(days=3)],
        landed=[NOW - timedelta(hours=2)],
    )


def by_name(results: list[quality.CheckResult]) -> dict[str, quality.CheckResult]:
    return {r.name: r for r in results}


def test_healthy_serving_file_passes_every_check(healthy: Path) -> None:
    results = quality.run_checks(healthy, now=NOW)
    assert all(r.passed for r in results), [r.describe() for r in results]
    summary = quality.raise_on_failure(results)
    assert "0 expected reports not submitted" in summary
    assert "0 messages dead-lettered in the last 24 h (1 in all)" in summary


def test_missing_reports_fail_and_are_named(tmp_path: Path) -> None:
    serving = make_serving(
        tmp_path / "s.duckdb",
        [("KR-A-P01", "FY2026Q1", "missing", None), ("KR-A-P02", "FY2026Q1", "on_time", 0)],
        dead_letters=[],
        landed=[NOW],
    )
    result = by_name(quality.run_checks(serving, now=NOW))["missing reports"]
    assert not result.passed and result.severity == quality.ERROR
    assert "1 expected reports not submitted (e.g. KR-A-P01 FY2026Q1)" in result.detail
    with pytest.raises(quality.QualityFailure, match="missing reports: FAILED"):
        quality.raise_on_failure([result])
    allowed = quality.Thresholds(max_missing_reports=1)
    assert by_name(quality.run_checks(serving, now=NOW, limits=allowed))["missing reports"].passed


def test_late_reports_warn_without_failing_the_run(tmp_path: Path) -> None:
    serving = make_serving(
        tmp_path / "s.duckdb",
        [("KR-A-P01", "FY2026Q1", "late", 3), ("KR-A-P02", "FY2026Q1", "late", 12)],
        dead_letters=[],
        landed=[NOW],
    )
    results = quality.run_checks(serving, now=NOW)
    late = by_name(results)["late reports"]
    assert not late.passed and late.severity == quality.WARNING
    assert late.detail == "2 reports arrived late, the latest by 12 days"
    assert "late reports: warning" in quality.raise_on_failure(results)


def test_new_dead_letters_fail_old_ones_do_not(tmp_path: Path) -> None:
    serving = make_serving(
        tmp_path / "s.duckdb", [], dead_letters=[NOW - timedelta(hours=1), NOW - timedelta(days=2)], landed=[NOW]
    )
    result = by_name(quality.run_checks(serving, now=NOW))["dead-letter growth"]
    assert not result.passed
    assert result.detail == "1 messages dead-lettered in the last 24 h (2 in all)"
    later = by_name(quality.run_checks(serving, now=NOW + timedelta(days=1)))["dead-letter growth"]
    assert later.passed


def test_stale_or_empty_lake_fails(tmp_path: Path) -> None:
    stale = make_serving(tmp_path / "stale.duckdb", [], dead_letters=[], landed=[NOW - timedelta(days=8)])
    result = by_name(quality.run_checks(stale, now=NOW))["lake freshness"]
    assert not result.passed and "192.0 h ago" in result.detail
    empty = make_serving(tmp_path / "empty.duckdb", [], dead_letters=[], landed=[])
    assert by_name(quality.run_checks(empty, now=NOW))["lake freshness"].detail == "nothing has been landed in the lake"


def test_marts_not_built_yet_fail_clearly(tmp_path: Path) -> None:
    path = tmp_path / "bare.duckdb"
    duckdb.connect(str(path)).close()
    results = by_name(quality.run_checks(path, now=NOW))
    assert not results["missing reports"].passed
    assert "marts.fct_report_submission is not in the serving file" in results["missing reports"].detail
    assert "marts.fct_dead_letter_events" in results["dead-letter growth"].detail


def test_checks_open_the_serving_file_read_only(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, bool]] = []
    real_connect = duckdb.connect

    def spy(database: object = ":memory:", *args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        opened.append((str(database), bool(kwargs.get("read_only", args[0] if args else False))))
        return real_connect(database, *args, **kwargs)  # type: ignore[arg-type]

    with duckdb.connect(str(healthy), read_only=True):  # another reader (Superset) is fine
        monkeypatch.setattr(duckdb, "connect", spy)
        quality.run_checks(healthy, now=NOW)
    assert opened, "the checks opened no connection"
    assert all(path == str(healthy) and read_only for path, read_only in opened), opened
    assert not Path(f"{healthy}.wal").exists()


def test_thresholds_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOUIKI_QUALITY_MAX_MISSING_REPORTS", "3")
    monkeypatch.setenv("KOUIKI_QUALITY_MAX_LAKE_AGE_HOURS", "12")
    limits = quality.Thresholds.of(Settings.from_env())
    assert limits.max_missing_reports == 3 and limits.max_lake_age == timedelta(hours=12)


def test_failure_callback_logs_and_appends_an_alert(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(bootstrap_servers="127.0.0.1:9092", data_dir=tmp_path / "data")
    ti = SimpleNamespace(
        dag_id="kouiki_quality",
        task_id="check_serving_data",
        run_id="scheduled__2026-11-25",
        try_number=3,
        log_url="http://127.0.0.1:8080/log",
    )
    context = {"task_instance": ti, "exception": quality.QualityFailure("missing reports: FAILED — 2 ...")}
    with caplog.at_level(logging.ERROR, logger="kouiki.orchestration.alerts"):
        alerts.on_failure(context, settings_factory=lambda: settings)
        alerts.on_failure(context, settings_factory=lambda: settings)
    assert "KOUIKI ALERT kouiki_quality.check_serving_data run scheduled__2026-11-25: missing reports" in caplog.text
    records = [json.loads(line) for line in alerts.alerts_path(settings).read_text().splitlines()]
    assert len(records) == 2
    assert records[0]["dag_id"] == "kouiki_quality" and records[0]["try_number"] == 3
    assert records[0]["message"].startswith("missing reports: FAILED")


def test_failure_callback_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Settings:
        raise OSError("disk full")

    alerts.on_failure({}, settings_factory=broken)
    assert "could not be recorded" in caplog.text


def test_freshness_results_are_parsed_from_dbt_artifact() -> None:
    document = {
        "results": [
            {
                "unique_id": "source.kouiki.kafka_lake.reports_v1",
                "status": "pass",
                "max_loaded_at_time_ago_in_s": 7200.0,
            },
            {
                "unique_id": "source.kouiki.kafka_lake.registry_v1",
                "status": "warn",
                "max_loaded_at_time_ago_in_s": 63931200922.6,
            },  # dbt's age of an empty source
        ]
    }
    results = freshness.parse_results(document)
    assert freshness.summary(results) == (
        "kafka_lake.reports_v1: pass (newest row 2.0 h old); kafka_lake.registry_v1: warn (nothing landed yet)"
    )
    assert freshness.parse_results({}) == []


def test_a_stale_source_does_not_block_the_build_but_a_failed_check_does() -> None:
    fresh = freshness.SourceFreshness("kafka_lake.reports_v1", "pass", 10.0)
    stale = freshness.SourceFreshness("kafka_lake.registry_v1", "error", None)
    assert freshness.check_could_run(0, [fresh])
    assert freshness.check_could_run(1, [fresh, stale])  # dbt exits 1 for error_after
    assert not freshness.check_could_run(1, [fresh, freshness.SourceFreshness("kafka_lake.x", "runtime error", None)])
    assert not freshness.check_could_run(2, [])  # no artifact: dbt itself failed
