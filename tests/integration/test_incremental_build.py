"""The incremental build against the full rebuild: one lake built both ways gives the same marts.

A small lake is built whole (``kouiki build``: no warehouse yet, so the full rebuild). Then files
land on top, each written as the lander writes a batch (its own offset-named Parquet file at the
partition's next offsets): a new report, a later version of a report with fewer and changed
funding lines, a re-send of that report's old version (which must not win), a re-registration
moving a project's areas, a consortium renamed, and a dead-lettered event. ``kouiki build`` then
takes them in incrementally, in the warm dbt worker as the platform runs it; a copy of the same
lake is rebuilt with ``kouiki build --full-refresh`` in a new dbt process; every table of the
marts, reports and intermediate schemas must match row for row (EXCEPT ALL both ways), and the
marts must match the independent reference reading.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kouiki.config import Settings
from kouiki.contract.check import kind_of
from kouiki.lake import files as lake
from kouiki.messaging.topics import REPORTS_TOPIC
from kouiki.sample.generator import generate
from kouiki.sample.national import lake_rows, write_to_lake
from kouiki.services import dbt_worker
from tests.support import reference
from tests.support.platform import run_kouiki, settings_for

pytestmark = pytest.mark.integration
EPOCH = "test"
# bookkeeping of the incremental path itself, which differs by design between the two builds
CHANGE_TRACKING = {"int_projects_changed", "int_project_changes_consumed"}
# read from the lander's run/stuck_partitions.json, not the lake (empty here)
NOT_FROM_THE_LAKE = {"fct_stuck_partitions"}


def later_documents(first: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What lands after the first build, in landing order."""
    registry = [d for d in first if "entity" in d]
    reports = [d for d in first if "entity" not in d]
    project = next(d for d in registry if d["entity"] == "project" and len(d["areas"]) > 1)
    consortium = next(d for d in registry if d["entity"] == "consortium")
    corrected = next(r for r in reports if len(r["funding"]) > 1 and r["project_code"] != project["project_code"])
    new_report = copy.deepcopy(max(reports, key=lambda r: r["period"]))
    fiscal_year, quarter = int(new_report["period"][2:6]), int(new_report["period"][-1])
    next_quarter = f"FY{fiscal_year + quarter // 4}Q{quarter % 4 + 1}"  # not reported by anyone yet
    new_report.update(event_id=str(uuid.uuid4()), period=next_quarter)
    version_2 = copy.deepcopy(corrected)  # the next version: the sample may already hold a version 2
    version_2.update(event_id=str(uuid.uuid4()), version=next_version(reports, corrected))
    version_2["funding"] = [dict(corrected["funding"][0], amount_jpy=corrected["funding"][0]["amount_jpy"] + 12_345)]
    moved = copy.deepcopy(project)
    moved.update(
        event_id=str(uuid.uuid4()),
        submitted_at=(datetime.fromisoformat(project["submitted_at"]) + timedelta(days=200)).isoformat(),
        areas=[{"pref_code": project["areas"][-1]["pref_code"], "share": 1.0}],
    )
    renamed = copy.deepcopy(consortium)
    renamed.update(event_id=str(uuid.uuid4()), name_ja=consortium["name_ja"] + "（改称）")
    return [new_report, version_2, copy.deepcopy(corrected), moved, renamed]


def next_version(docs: list[dict[str, Any]], report: dict[str, Any]) -> int:
    """One more than the highest version of ``report``'s project and period among ``docs``."""
    key = (report["project_code"], report["period"])
    return 1 + max(d["version"] for d in docs if "entity" not in d and (d["project_code"], d["period"]) == key)


def land(settings: Settings, docs: list[dict[str, Any]]) -> None:
    """Each document's partition gets one new batch file at its next offsets."""
    for (topic, partition), rows in sorted(lake_rows(docs, EPOCH).items()):
        folder = lake.partition_dir(settings.raw_dir, topic, EPOCH, partition)
        start = lake.next_offset(folder)
        lake.write_batch(folder, [dataclasses.replace(row, offset=start + i) for i, row in enumerate(rows)])


def land_dead_letter(settings: Settings) -> None:
    folder = lake.partition_dir(settings.raw_dir, REPORTS_TOPIC, EPOCH, 0)
    now = datetime.now(UTC)
    row = lake.Row(
        topic=REPORTS_TOPIC,
        epoch=EPOCH,
        partition=0,
        offset=lake.next_offset(folder),
        kafka_ts=now,
        key="KR-XX-01-P01",
        value=b'{"period": "FY2026Q1", "bad": "\xff"}',
        ingested_at=now,
        status=lake.DEAD_LETTER,
        error_class="NotUtf8",
        error_message="invalid start byte",
    )
    lake.write_batch(folder, [row])


def build(settings: Settings, *args: str) -> str:
    return run_kouiki(settings, "build", *args, check=True).stdout


def tables(warehouse: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('marts', 'reports', 'intermediate') order by all"
        ).fetchall()


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Settings, list[dict[str, Any]]]]:
    sample = generate(seed=7, quarters=4)
    first = [*sample.registry, *sample.reports]
    incremental = settings_for(tmp_path_factory.mktemp("incremental") / "data", "127.0.0.1:9")
    write_to_lake(incremental.raw_dir, first, epoch=EPOCH)
    # built as the platform builds it: in the warm dbt worker; the full rebuild in a new dbt process
    dbt_worker.start(incremental, wait=180)
    try:
        out = build(incremental)
        assert "build --full-refresh" in out, "no warehouse yet: the first build is the full one"
        assert "in the warm dbt worker" in out
        later = later_documents(first)
        land(incremental, later[:2])  # the new report and version 2, one file per partition
        land(incremental, later[2:])  # the re-sent version 1, the re-registrations
        land_dead_letter(incremental)
        out = build(incremental)
        assert "run (incremental)" in out and "in the warm dbt worker" in out and "published" in out
        full = settings_for(tmp_path_factory.mktemp("full") / "data", "127.0.0.1:9")
        shutil.copytree(incremental.raw_dir, full.raw_dir)
        out = build(full, "--full-refresh")
        assert "build --full-refresh" in out and "in a new dbt process" in out
        yield incremental, full, [*first, *later]
    finally:
        dbt_worker.stop(incremental)


def test_every_mart_table_is_identical_both_ways(both_ways: Any) -> None:
    incremental, full, _docs = both_ways
    skipped = CHANGE_TRACKING | NOT_FROM_THE_LAKE
    compared = [t for t in tables(incremental.serving_path) if t[1] not in skipped]
    assert compared == [t for t in tables(full.serving_path) if t[1] not in skipped]
    assert {"fct_investment", "fct_kpi_contribution", "rpt_investment_lines", "fct_dead_letter_events"} <= {
        name for _schema, name in compared
    }
    with duckdb.connect(str(incremental.serving_path), read_only=True) as con:
        con.execute(f"attach '{full.serving_path}' as full_build (read_only)")
        for schema, name in compared:
            mine, theirs = f'"{schema}"."{name}"', f'full_build."{schema}"."{name}"'
            count = con.execute(f"select count(*) from {mine}").fetchone()
            assert count is not None and count[0] > 0, f"{schema}.{name} is empty: nothing compared"
            columns = ", ".join(comparable(con, schema, name))
            for a, b in ((mine, theirs), (theirs, mine)):
                only_in_a = f"select {columns} from {a} except all select {columns} from {b} limit 3"
                extra = con.execute(only_in_a).fetchall()
                assert extra == [], f"{schema}.{name}: rows only in {a}: {extra}"


def comparable(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    """Every column, doubles rounded to 6 decimals: a sum or mean of doubles depends on the order
    DuckDB adds them in, which neither build fixes (rows arrive in a different order)."""
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall()
    return [f'round("{c}", 6)' if kind in ("DOUBLE", "FLOAT") else f'"{c}"' for c, kind in rows]


def test_incremental_marts_match_the_reference_reading(both_ways: Any) -> None:
    incremental, _full, docs = both_ways
    with duckdb.connect(str(incremental.serving_path), read_only=True) as con:
        investment = con.execute(
            "select project_code, period, source_type, stage, pref_code, amount_jpy from marts.fct_investment"
        ).fetchall()
        dead = con.execute("select error_class from marts.fct_dead_letter_events").fetchall()
        names = dict(con.execute("select consortium_code, consortium_name_ja from marts.dim_project").fetchall())
    assert {row[:5]: row[5] for row in investment} == reference.investment_lines_at_report_date(docs)
    assert dead == [("NotUtf8",)]
    renamed = [d for d in docs if kind_of(d) == "consortium" and d["name_ja"].endswith("（改称）")]
    assert renamed and names[renamed[0]["consortium_code"]] == renamed[0]["name_ja"]


def test_the_later_version_replaced_the_earlier_lines(both_ways: Any) -> None:
    incremental, _full, docs = both_ways
    version_2 = next(d for d in reversed(docs) if "entity" not in d and d["version"] > 1 and len(d["funding"]) == 1)
    with duckdb.connect(str(incremental.serving_path), read_only=True) as con:
        lines = con.execute(
            "select report_version, count(distinct line_number), sum(reported_amount_jpy) filter (where is_allocated) "
            "from intermediate.int_funding_lines_allocated_to_prefectures where project_code = ? and period = ? "
            "group by all",
            [version_2["project_code"], version_2["period"]],
        ).fetchall()
    assert [row[:2] for row in lines] == [(version_2["version"], 1)], "version 1's other lines must be gone"


def test_a_build_with_nothing_new_changes_nothing(both_ways: Any) -> None:
    incremental, _full, _docs = both_ways
    before = tables(incremental.warehouse_path)
    with duckdb.connect(str(incremental.warehouse_path), read_only=True) as con:
        counts = con.execute("select count(*) from marts.fct_investment").fetchone()
    build(incremental, "--no-publish")
    with duckdb.connect(str(incremental.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from intermediate.int_projects_changed").fetchone() == (0,)
        assert con.execute("select count(*) from marts.fct_investment").fetchone() == counts
    assert tables(incremental.warehouse_path) == before


def test_a_report_landing_alone_rebuilds_only_what_follows_reports(both_ways: Any) -> None:
    incremental, _full, docs = both_ways
    report = next(d for d in docs if "entity" not in d and d["version"] == 1 and len(d["funding"]) > 1)
    version_3 = copy.deepcopy(report)
    version_3.update(event_id=str(uuid.uuid4()), version=next_version(docs, report))
    version_3["funding"] = [dict(line, amount_jpy=line["amount_jpy"] * 2) for line in report["funding"]]
    land(incremental, [version_3])
    build(incremental)
    with duckdb.connect(str(incremental.serving_path), read_only=True) as con:
        investment = con.execute(
            "select project_code, period, source_type, stage, pref_code, amount_jpy from marts.fct_investment"
        ).fetchall()
    assert {row[:5]: row[5] for row in investment} == reference.investment_lines_at_report_date([*docs, version_3])
    run_results = json.loads((incremental.data_dir / "dbt" / "target" / "run_results.json").read_text("utf-8"))
    ran = {result["unique_id"].split(".")[-1] for result in run_results["results"]}
    assert "fct_investment" in ran and "base_kafka_lake__report_events" in ran
    assert not ran & {"base_kafka_lake__registry_events", "int_projects_latest", "dim_project"}, ran
