"""The sample generator: deterministic for a seed, realistic in shape."""

from __future__ import annotations

from kouiki.sample.generator import generate


def test_same_seed_same_events_different_seed_different_events() -> None:
    assert generate(seed=11).reports == generate(seed=11).reports
    assert generate(seed=11).reports != generate(seed=12).reports


def test_covers_the_cases_the_marts_must_handle() -> None:
    sample = generate(seed=42)
    consortia = [d for d in sample.registry if d["entity"] == "consortium"]
    assert len(consortia) == 22
    assert {c["consortium_code"] for c in consortia if len(c["prefectures"]) == 1} == {"KR-HKD-01", "KR-OKN-01"}
    lines = [line for r in sample.reports for line in r["funding"]]
    assert any("pref_code" in line for line in lines) and any("pref_code" not in line for line in lines)
    assert any(r["version"] > 1 for r in sample.reports)
    event_ids = [r["event_id"] for r in sample.reports]
    assert len(event_ids) > len(set(event_ids)), "some reports are re-sent unchanged"
