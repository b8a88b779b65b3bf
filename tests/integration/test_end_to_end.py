"""The walking skeleton end to end, every part real: generated reports go through `kouiki submit`
to the broker, Airflow's scheduler runs kouiki_ingest → kouiki_transform → kouiki_publish, dbt builds
the marts, and Superset serves the dashboard. The numbers are checked at each end against totals
computed independently from the submitted files (tests/support/reference.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from kouiki.config import Settings
from kouiki.sample.generator import generate
from kouiki.services import airflow
from kouiki.services.airflow_api import AirflowClient
from kouiki.services.superset import api, deploy
from tests.support import reference
from tests.support.platform import free_port, run_kouiki
from tests.support.signing import settings_for
from tests.support.stack import running_platform

pytestmark = pytest.mark.integration
STAGES = ("planned", "committed", "executed")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Broker, Airflow (LocalExecutor, metadata on the embedded SQLite default) and Superset on free
    loopback ports."""
    root = tmp_path_factory.mktemp("e2e")
    settings = settings_for(root / "data", f"127.0.0.1:{free_port()}")
    with running_platform(settings) as running:  # Airflow on the embedded SQLite default, as `make demo`
        yield running


@pytest.fixture(scope="module")
def submitted(platform: Settings) -> tuple[list[dict[str, Any]], float]:
    files = generate(seed=2026, quarters=5).write(platform.data_dir / "submitted")
    submitted_at = time.time() - 1
    proc = run_kouiki(platform, "submit", *map(str, files), check=True)
    assert "0 problems" in proc.stderr
    return reference.read_jsonl(files), submitted_at


@pytest.fixture(scope="module")
def published(platform: Settings, submitted: tuple[list[dict[str, Any]], float]) -> dict[str, Any]:
    """Airflow lands, builds and publishes: one ingest run is triggered over the REST API, the rest
    is chained by Assets."""
    client = AirflowClient(platform)
    client.wait_for_dags()
    client.trigger("kouiki_ingest")
    run = client.wait_for_success("kouiki_publish", after=submitted[1], timeout=420)
    return {"run": run, "client": client}


@pytest.fixture(scope="module")
def dashboard(platform: Settings, published: dict[str, Any]) -> api.ApiClient:
    """Superset bootstrapped from infra/ and superset_assets/, serving the published file."""
    deploy.bootstrap(platform)
    deploy.start(platform)
    return api.admin_client(platform, legacy=True)


def test_the_three_dags_ran_through_airflow(published: dict[str, Any]) -> None:
    client = published["client"]
    for dag_id in airflow.DAG_IDS:
        assert client.runs(dag_id, state="success"), f"{dag_id} has no successful run"
    assert published["run"]["dag_run_id"].startswith("asset_triggered__")


def serving_rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_fct_investment_equals_the_submitted_lines(platform: Settings, submitted: Any, published: Any) -> None:
    docs, _ = submitted
    expected = reference.investment_lines(docs)
    rows = serving_rows(
        platform, "select project_code, period, source_type, stage, pref_code, amount_jpy from marts.fct_investment"
    )
    assert {tuple(r[:5]): r[5] for r in rows} == expected
    assert len(rows) == len(expected)


def test_prefecture_summary_equals_independent_totals(platform: Settings, submitted: Any, published: Any) -> None:
    docs, _ = submitted
    expected = reference.investment_by_prefecture_year(docs)
    rows = serving_rows(
        platform,
        "select pref_code, fiscal_year, investment_planned_jpy, "
        "investment_committed_jpy, investment_executed_jpy "
        "from marts.mart_prefecture_summary",
    )
    years = {fy for (_p, fy, _s) in expected}
    assert len(rows) == 47 * len(years)  # every prefecture, every reported fiscal year
    actual = {
        (pref, fy, stage): yen for pref, fy, *amounts in rows for stage, yen in zip(STAGES, amounts, strict=True) if yen
    }
    assert actual == expected
    total = sum(r["amount_jpy"] for rep in reference.latest_reports(docs).values() for r in rep["funding"])
    assert sum(sum(r[2:]) for r in rows) == total  # reconciles to the yen


def test_dashboard_chart_data_shows_the_same_numbers(submitted: Any, dashboard: api.ApiClient) -> None:
    docs, _ = submitted
    expected = reference.investment_by_prefecture_year(docs)
    client = dashboard
    table, country_map = "6b6f7569-6b69-4000-8000-000000000022", "6b6f7569-6b69-4000-8000-000000000021"
    for fy in sorted({fy for (_p, fy, _s) in expected}):
        rows = client.chart_data(table, filters={"fiscal_year": fy})
        assert len(rows) == 47
        for stage in STAGES:
            shown = {r["pref_code"]: r[f"investment_{stage}_jpy"] for r in rows if r[f"investment_{stage}_jpy"]}
            assert shown == {p: yen for (p, y, s), yen in expected.items() if y == fy and s == stage}
        shown_map = {
            r["country_id"]: r["metric"]
            for r in client.chart_data(country_map, filters={"fiscal_year": fy})
            if r["metric"]
        }
        assert shown_map == {f"JP-{p}": yen for (p, y, s), yen in expected.items() if y == fy and s == "executed"}


def test_dashboard_page_opens(dashboard: api.ApiClient) -> None:
    response = dashboard.session.get(f"{dashboard.url}/superset/dashboard/kouiki-overview/", timeout=60)
    assert response.status_code == 200
    assert "/login" not in response.url  # served to the logged-in user, not redirected to log in
    # the page is Superset's app shell (it echoes the slug whatever it is); the dashboard it loads:
    saved = dashboard.request_json("GET", "/api/v1/dashboard/kouiki-overview")["result"]
    assert saved["dashboard_title"] == "全国概況"
