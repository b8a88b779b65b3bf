"""The national-scale generator at full size (~80,000 reports, ~1 million lines): seconds of work, so
outside the fast set."""

from __future__ import annotations

from collections import Counter

import pytest

from kouiki.sample import national

pytestmark = pytest.mark.integration


def test_national_scale() -> None:
    dataset = national.generate()
    entities = Counter(d["entity"] for d in dataset.registry)
    assert entities["consortium"] == 200
    assert len({d["project_code"] for d in dataset.registry if d["entity"] == "project"}) == 2000
    assert entities["project"] > 2000, "some projects are re-registered with new areas"
    assert 75_000 <= len(dataset.reports) <= 85_000
    lines = sum(len(r["funding"]) + len(r["kpis"]) for r in dataset.reports)
    assert 900_000 <= lines <= 1_100_000
    assert {r["period"][:6] for r in dataset.reports} == {f"FY{fy}" for fy in range(2025, 2035)}
