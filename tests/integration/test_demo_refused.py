"""The one submission ``kouiki demo`` sends for the data-quality dashboard: signed with the platform's
key as the sample is, refused by the real lander for the contract's reason alone (a KPI code its
project never registered), and kept in the lake as a dead letter."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kouiki.config import Settings
from kouiki.identity.signing_keys import ensure_operator_key
from kouiki.landing import coordinator
from kouiki.messaging.topics import REPORTS_TOPIC
from kouiki.sample.generator import generate, refused_example
from kouiki.services.local_stack import send_unchecked
from tests.support.platform import run_kouiki

pytestmark = pytest.mark.integration


def test_the_demo_refused_report_is_dead_lettered_with_its_reason(fresh_broker: Settings, tmp_path: Path) -> None:
    settings = fresh_broker
    sample = generate(seed=42, quarters=3)
    registry, _reports = sample.write(tmp_path / "sample")
    run_kouiki(settings, "submit", str(registry), check=True)
    refused = refused_example(sample)
    send_unchecked(settings, refused, ensure_operator_key(settings))
    report = coordinator.land(settings)
    assert sum(c["dead_lettered"] for c in report.counts.values()) == 1
    glob = settings.raw_dir / REPORTS_TOPIC / "*" / "*" / "*.parquet"
    [(key, status, error_class, message)] = duckdb.sql(
        f"select _key, _status, _error_class, _error_message from read_parquet('{glob}')"
    ).fetchall()
    kpi = refused["kpis"][0]["kpi_code"]
    assert (key, status, error_class) == (refused["project_code"], "dead_letter", "UnknownCode")
    assert f"KPI {kpi} is not registered on {refused['project_code']}" in message
