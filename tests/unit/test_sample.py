"""The sample generator: deterministic for a seed, realistic in shape."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from kouiki.contract.check import check_bytes
from kouiki.contract.rules import Registry
from kouiki.sample.generator import THEME_KPIS, generate, refused_example
from tests.support import reference


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


SAMPLE = generate(seed=42)
DOCS = [*SAMPLE.registry, *SAMPLE.reports]
PROJECTS = {d["project_code"]: d for d in SAMPLE.registry if d["entity"] == "project"}
AS_OF = date(2026, 11, 25)  # as in tests/integration/test_dbt_project.py


def _seed_codes(name: str, column: str) -> set[str]:
    path = Path(__file__).parents[2] / "dbt_project" / "seeds" / f"{name}.csv"
    with path.open(encoding="utf-8") as f:
        return {row[column] for row in csv.DictReader(f)}


def test_funding_is_planned_then_committed_then_executed() -> None:
    """Summed over each fiscal year's latest reports, executed <= committed <= planned for every
    project-year but the one that overspends on purpose, a little; a year's plans are near the
    project's budget spread over its years."""
    years: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    for (project, period), report in reference.latest_reports(DOCS).items():
        for line in report["funding"]:
            years[(project, int(period[2:6]))][line["stage"]] += line["amount_jpy"]
    over = [key for key, t in years.items() if not t["executed"] <= t["committed"] <= t["planned"]]
    assert len(over) == 1
    overspent = years[over[0]]
    assert overspent["committed"] < overspent["executed"] < overspent["committed"] * 1.06  # by 2-5 %
    assert overspent["committed"] <= overspent["planned"]
    for (code, fy), totals in years.items():
        project = PROJECTS[code]
        per_year = project["planned_budget_jpy"] / (project["end_fy"] - project["start_fy"] + 1)
        assert 0.5 * per_year < totals["planned"] < 1.2 * per_year, (code, fy)


def test_funding_lines_name_only_the_project_areas_and_about_half_none() -> None:
    lines = [(r["project_code"], line) for r in SAMPLE.reports for line in r["funding"]]
    with_pref = [(code, line["pref_code"]) for code, line in lines if "pref_code" in line]
    assert all(pref in {a["pref_code"] for a in PROJECTS[code]["areas"]} for code, pref in with_pref)
    assert 0.35 < len(with_pref) / len(lines) < 0.65
    assert all(line["amount_jpy"] > 0 for _code, line in lines)
    assert all(r["funding"] for r in SAMPLE.reports), "every report gives at least its quarter's execution"


def test_kpis_fit_the_theme_and_serve_a_national_kpi_or_logic_model_item() -> None:
    known = _seed_codes("national_kpis", "national_kpi_code") | _seed_codes("policy_nodes", "policy_code") | {"LOCAL"}
    kpis = [(p, k) for p in PROJECTS.values() for k in p["kpis"]]
    assert {k["contributes_to"] for _p, k in kpis} <= known
    assert all(k["kpi_code"] in {t.kpi_code for t in THEME_KPIS[p["theme"]]} for p, k in kpis)
    links = {(k["kpi_code"], k["unit"], k["contributes_to"]) for _p, k in kpis}
    assert ("CO2_AVOIDED", "TCO2", "KP-14") in links  # counted at KP-14 (areas), never added
    assert ("HQ_JOBS", "PERSON", "KP-23") in links  # KP-23 sums persons: the roll-up adds it up
    units = {(p["project_code"], k["kpi_code"]): k["unit"] for p, k in kpis}
    for report in SAMPLE.reports:
        for value in report["kpis"]:
            unit = units[(report["project_code"], value["kpi_code"])]
            assert value["value"] >= 0
            if unit in ("PERSON", "PERSON_CUM", "COUNT") or unit.startswith("COUNT_"):
                assert value["value"] == int(value["value"]), (report["project_code"], value)


def test_kpis_move_toward_their_targets_at_believable_paces() -> None:
    statuses = Counter(v["status"] for v in reference.kpi_progress(DOCS, AS_OF).values())
    assert statuses["achieved"] >= 1 and statuses["behind"] >= 5
    assert statuses["on_track"] > statuses["behind"] + statuses["achieved"], statuses


def test_a_few_reports_are_late_and_a_handful_never_come() -> None:
    statuses = Counter(reference.submission_statuses(DOCS, AS_OF).values())
    assert 1 <= statuses["missing"] <= 10 and 3 <= statuses["late"] <= 25
    assert statuses["on_time"] > 5 * (statuses["late"] + statuses["missing"])


def test_the_refused_example_is_well_formed_but_names_an_unregistered_kpi() -> None:
    registry = Registry()
    registry.add_valid_in_order(json.dumps(d).encode() for d in SAMPLE.registry)
    refused = refused_example(SAMPLE)
    assert refused == refused_example(generate(seed=42)), "deterministic"
    assert refused["event_id"] not in {r["event_id"] for r in SAMPLE.reports}
    checked = check_bytes(json.dumps(refused, ensure_ascii=False).encode(), registry)
    assert checked.error_class == "UnknownCode"
    assert [v.path for v in checked.violations] == ["$.kpis[0].kpi_code"], "refused for that alone"
