"""The dbt project against a real DuckDB: a small lake built from the sample generator (plus a
re-registration, an unregistered KPI value and a dead letter), then ``dbt build``, ``dbt source
freshness`` and ``dbt docs generate`` through kouiki.warehouse, and mart numbers checked against an
independent Python reading of the contract (tests/support/reference.py)."""

from __future__ import annotations

import copy
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kouiki.lake import files as lake
from kouiki.messaging.topics import REPORTS_TOPIC
from kouiki.sample.generator import generate
from kouiki.sample.national import write_to_lake
from kouiki.warehouse.dbt import DbtRun, dbt
from tests.support import reference
from tests.support.platform import settings_for

pytestmark = pytest.mark.integration
AS_OF = date(2026, 11, 25)
VARS = json.dumps({"as_of_date": AS_OF.isoformat()})


def run_dbt(settings: Any, *args: str) -> DbtRun:
    proc = dbt(settings, *args)
    assert proc.returncode == 0, f"dbt {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-5000:]}"
    return proc


def sample_documents() -> list[dict[str, Any]]:
    """The seed-42 sample, plus: one project moves its areas mid-way (reports after that date must
    use the new areas), and one report carries a KPI code its project never registered."""
    sample = generate(seed=42, quarters=6)
    projects = [d for d in sample.registry if d["entity"] == "project" and len(d["areas"]) > 1]
    moved = copy.deepcopy(projects[0])
    moved.update(
        event_id="00000000-0000-4000-8000-000000000001",
        submitted_at="2025-12-01T09:00:00+09:00",
        areas=[{"pref_code": moved["areas"][-1]["pref_code"], "share": 1.0}],
    )
    reports = copy.deepcopy(sample.reports)
    stray = next(r for r in reports if r["project_code"] != moved["project_code"])
    stray["kpis"].append({"kpi_code": "NOT_REGISTERED", "value": 1.0})
    # a report that gives a sum-KPI's total and its breakdown by prefecture: counted once
    sums = {(p["project_code"], k["kpi_code"]): p for p in projects[1:] for k in p["kpis"] if k["aggregation"] == "sum"}
    broken_down = next(
        r for r in reports for k in r["kpis"] if (r["project_code"], k["kpi_code"]) in sums and "pref_code" not in k
    )
    total = next(k for k in broken_down["kpis"] if (broken_down["project_code"], k["kpi_code"]) in sums)
    areas = sums[(broken_down["project_code"], total["kpi_code"])]["areas"]
    broken_down["kpis"] += [{"kpi_code": total["kpi_code"], "pref_code": a["pref_code"], "value": 1.0} for a in areas]
    return [*sample.registry, moved, *reports]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]], Path]:
    settings = settings_for(tmp_path_factory.mktemp("dbt") / "data", "127.0.0.1:9")
    docs = sample_documents()
    write_to_lake(settings.raw_dir, docs, epoch="test")
    dead = lake.Row(
        topic=REPORTS_TOPIC,
        epoch="test-dlq",
        partition=0,
        offset=0,
        kafka_ts=datetime.now(UTC),
        key="KR-XX-01-P01",
        value=b'{"period": "FY2026Q1", "bad": "\xff\xfe"}',
        ingested_at=datetime.now(UTC),
        status="dead_letter",
        error_class="NotUtf8",
        error_message="invalid start byte",
    )
    lake.write_batch(lake.partition_dir(settings.raw_dir, REPORTS_TOPIC, "test-dlq", 0), [dead])
    proc = run_dbt(settings, "build", "--vars", VARS)
    assert "WARN=" in proc.stdout
    return settings, docs, settings.warehouse_path


def rows(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read-only and closed again at once: dbt must be able to open the file for writing."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_build_warns_about_the_unregistered_kpi_value(built: Any) -> None:
    _settings, _docs, con = built
    assert rows(con, "select kpi_code from intermediate.int_kpi_values_latest where not is_registered") == [
        ("NOT_REGISTERED",)
    ]


def test_investment_uses_the_areas_valid_at_each_report_date(built: Any) -> None:
    _settings, docs, con = built
    expected = reference.investment_lines_at_report_date(docs)
    actual = {
        (p, per, s, st, pref): yen
        for p, per, s, st, pref, yen in rows(
            con, "select project_code, period, source_type, stage, pref_code, amount_jpy from marts.fct_investment"
        )
    }
    assert actual == expected
    assert expected != reference.investment_lines(docs), "the re-registration must change some allocation"


def test_sum_kpis_are_allocated_and_latest_kpis_keep_the_last_value(built: Any) -> None:
    _settings, docs, con = built
    expected = reference.sum_kpi_by_prefecture(docs)
    actual = {
        (p, k, per, pref): v
        for p, k, per, pref, v in rows(
            con,
            "select project_code, kpi_code, period, pref_code, value from marts.fct_kpi_contribution "
            "where aggregation = 'sum'",
        )
    }
    assert actual.keys() == expected.keys()
    assert all(abs(actual[key] - expected[key]) < 1e-6 for key in expected)
    latest = {
        (p, k, per): v
        for p, k, per, v in rows(
            con,
            "select project_code, kpi_code, period, value from marts.fct_kpi_contribution "
            "where aggregation = 'latest' and pref_code is null",
        )
    }
    assert latest == reference.latest_kpi_values(docs)


def test_prefecture_summary_matches_independent_totals(built: Any) -> None:
    _settings, docs, con = built
    expected: dict[tuple[str, int, str], int] = defaultdict(int)
    for (_project, period, _source, stage, pref), yen in reference.investment_lines_at_report_date(docs).items():
        expected[(pref, int(period[2:6]), stage)] += yen
    summary = rows(
        con,
        "select pref_code, fiscal_year, investment_planned_jpy, investment_committed_jpy, "
        "investment_executed_jpy, kpis_count, kpis_on_track_count, kpis_behind_count"
        " from marts.mart_prefecture_summary",
    )
    assert len(summary) == 47 * len({fy for _pref, fy, _stage in expected})
    for pref, fy, planned, committed, executed, *_kpis in summary:
        assert (planned, committed, executed) == tuple(
            expected.get((pref, fy, s), 0) for s in ("planned", "committed", "executed")
        )
    # KPI statuses are counted per prefecture of the project (never averaged): as of the as-of year
    areas = reference.project_areas(docs)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (project, _kpi), progress in reference.kpi_progress(docs, AS_OF).items():
        for pref in areas[project]:
            counts[pref]["all"] += 1
            counts[pref]["on_track"] += progress["status"] in ("achieved", "on_track")
            counts[pref]["behind"] += progress["status"] == "behind"
    got = {pref: (n, on, behind) for pref, fy, *_yen, n, on, behind in summary if fy == AS_OF.year and n}
    assert got == {pref: (c["all"], c["on_track"], c["behind"]) for pref, c in counts.items()}


def test_report_submissions_follow_the_quarterly_cycle(built: Any) -> None:
    _settings, docs, con = built
    expected = reference.submission_statuses(docs, AS_OF)
    actual = {
        (p, per): s
        for p, per, s in rows(con, "select project_code, period, submission_status from marts.fct_report_submission")
    }
    assert actual == expected
    assert Counter(actual.values())["late"] > 0


def test_dead_letters_are_quarantined_with_a_readable_preview(built: Any) -> None:
    _settings, _docs, con = built
    [(error_class, preview)] = rows(con, "select error_class, value_preview from marts.fct_dead_letter_events")
    assert error_class == "NotUtf8"
    assert preview.startswith('{"period": "FY2026Q1"') and "\ufffd" in preview


def test_every_mart_row_carries_report_lineage(built: Any) -> None:
    _settings, _docs, con = built
    for table in ("fct_investment", "fct_kpi_contribution", "fct_project_progress"):
        [(missing,)] = rows(
            con,
            f"select count(*) from marts.{table} where report_event_id is null "
            "or kafka_offset is null or kafka_partition is null",
        )
        assert missing == 0, table


def test_source_freshness_and_docs_generate_succeed(built: Any) -> None:
    settings, _docs, _con = built
    run_dbt(settings, "source", "freshness")
    run_dbt(settings, "docs", "generate", "--vars", VARS)
    catalog = json.loads((settings.data_dir / "dbt" / "target" / "catalog.json").read_text(encoding="utf-8"))
    assert "model.kouiki.fct_kpi_contribution" in catalog["nodes"]


def test_a_stale_lake_fails_freshness(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", "127.0.0.1:9")
    write_to_lake(
        settings.raw_dir,
        generate(seed=3, quarters=1).registry,
        epoch="old",
        ingested_at=datetime.now(UTC) - timedelta(days=40),
    )
    proc = dbt(settings, "source", "freshness")
    assert proc.returncode != 0 and "ERROR STALE" in proc.stdout


def test_empty_lake_builds_and_is_fresh(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", "127.0.0.1:9")
    run_dbt(settings, "build", "--vars", VARS)
    run_dbt(settings, "source", "freshness")
    warehouse = settings.warehouse_path
    assert rows(warehouse, "select count(*) from marts.fct_kpi_contribution") == [(0,)]
    assert rows(warehouse, "select count(*) from marts.dim_prefecture") == [(47,)]
    assert rows(warehouse, "select count(*) from marts.dim_fiscal_period") == [(21 * 7,)]


def test_project_kpi_progress_matches_the_reference(built: Any) -> None:
    """Level, progress and pace-adjusted status of every project KPI at the as-of date, against
    the plain-Python reading (a report's total and its prefecture breakdown counted once)."""
    _settings, docs, con = built
    expected = reference.kpi_progress(docs, AS_OF)
    got = {
        (project, kpi): {"level": level, "progress": progress, "status": status}
        for project, kpi, level, progress, status in rows(
            con,
            "select project_code, kpi_code, actual_value, progress, status"
            " from marts.fct_project_kpi_progress where is_latest",
        )
    }
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        assert got[key]["status"] == want["status"], key
        for field in ("level", "progress"):
            assert (got[key][field] is None) == (want[field] is None), (key, field)
            if want[field] is not None:
                assert got[key][field] == pytest.approx(want[field], rel=1e-9, abs=1e-9), (key, field)
    assert {v["status"] for v in expected.values()} >= {"achieved", "on_track", "behind"}, "the sample shows all three"


def _seed(name: str) -> list[dict[str, str]]:
    import csv

    path = Path(__file__).parents[2] / "dbt_project" / "seeds" / f"{name}.csv"
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_logic_model_rollup_counts_each_kpi_once_at_every_level(built: Any) -> None:
    """Per national KPI and per goal: the linked project KPIs and their statuses, computed from
    the documents and the seeds alone; nothing summed where the units differ."""
    _settings, docs, con = built
    progress = reference.kpi_progress(docs, AS_OF)
    links = {key: kpi["contributes_to"] for key, kpi in reference.project_kpis(docs).items() if key in progress}
    national = {row["national_kpi_code"]: row for row in _seed("national_kpis")}
    crosswalk = {row["policy_code"]: row["goal_code"] for row in _seed("policy_goal_crosswalk")}
    parents = {row["policy_code"]: row["parent_code"] for row in _seed("policy_nodes")}

    def path_up(code: str) -> list[str]:
        """The node and every node above it: a national KPI (under the KPI it restates, else under
        its goal, through the crosswalk for a pillar's measure), or a policy node up to V."""
        if code in national:
            same = national[code]["same_as"]
            policy = national[code]["policy_code"]
            goal = policy if policy.startswith("G") else crosswalk[policy[:5]]
            return [code, *(path_up(same) if same else path_up(goal))]
        parent = parents[code]
        return [code, *(path_up(parent) if parent else [])]

    expected: dict[str, Counter[str]] = defaultdict(Counter)
    for key, code in links.items():
        if code == "LOCAL":
            continue
        for node in path_up(code):
            expected[node][progress[key]["status"]] += 1
    got = {
        node: Counter({"achieved": a, "on_track": o, "behind": b, "not_reported": n, "no_target": t})
        for node, a, o, b, n, t in rows(
            con,
            "select node_code, achieved_kpis, on_track_kpis, behind_kpis, not_reported_kpis, no_target_kpis"
            " from marts.fct_logic_model_rollup where linked_kpis > 0",
        )
    }
    assert {node: +counts for node, counts in got.items()} == dict(expected)
    # KP-14 (decarbonisation-leading areas) is linked from CO2 avoided (t-CO2): counted, never added
    assert rows(
        con, "select summed_kpis, summed_contribution from marts.fct_logic_model_rollup where node_code = 'KP-14'"
    ) == [(0, 0.0)]
    assert rows(con, "select summed_contribution from marts.fct_logic_model_rollup where node_code = 'KB-06'") == [
        (None,)
    ]
    # KP-23 (persons from HQ functions moved) sums the jobs created that the INDUSTRY projects report
    [(summed, contribution)] = rows(
        con, "select summed_kpis, summed_contribution from marts.fct_logic_model_rollup where node_code = 'KP-23'"
    )
    assert summed > 0 and contribution > 0


def test_every_project_has_a_goal_and_p5_projects_sit_under_the_role_of_the_state(built: Any) -> None:
    _settings, docs, con = built
    goals = dict(rows(con, "select project_code, goal_code from marts.dim_project"))
    assert None not in goals.values()
    p5 = {d["project_code"] for d in docs if d.get("entity") == "project" and d["policy_code"].startswith("P5")}
    assert p5, "the sample must hold a 広域リージョン連携 project"
    assert {goals[code] for code in p5} == {"GR"}
