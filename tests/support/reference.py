"""An independent reading of the report contract's semantics, written from the specification in
plain Python (no SQL, no platform code), so tests can check the marts against it.

- the same event_id counts once; the highest version per project x period wins (later wins a tie);
- a funding line without pref_code is split over the project's areas by share, in whole yen, by the
  largest-remainder method (ties to the lower prefecture code), so the parts add up exactly.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any


def read_jsonl(paths: Iterable[Path]) -> list[dict[str, Any]]:
    docs = []
    for path in paths:
        docs.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return docs


def split_by_largest_remainder(amount: int, shares: dict[str, float]) -> dict[str, int]:
    exact = {
        pref: amount * Fraction(str(share)) / sum(Fraction(str(s)) for s in shares.values())
        for pref, share in shares.items()
    }
    parts = {pref: math.floor(q) for pref, q in exact.items()}
    leftover = amount - sum(parts.values())
    for pref in sorted(exact, key=lambda p: (-(exact[p] - parts[p]), p))[:leftover]:
        parts[pref] += 1
    return parts


def latest_reports(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    seen, latest = set(), {}
    for doc in docs:
        if "entity" in doc or doc["event_id"] in seen:
            continue
        seen.add(doc["event_id"])
        key = (doc["project_code"], doc["period"])
        if key not in latest or doc["version"] >= latest[key]["version"]:
            latest[key] = doc
    return latest


def project_areas(docs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    areas = {}
    for doc in docs:
        if doc.get("entity") == "project":
            areas[doc["project_code"]] = {a["pref_code"]: a["share"] for a in doc["areas"]}
    return areas


def investment_lines(docs: list[dict[str, Any]]) -> dict[tuple[str, str, str, str, str], int]:
    """(project, period, source_type, stage, pref_code) -> yen, after allocation."""
    areas = project_areas(docs)
    out: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    for (project, period), report in latest_reports(docs).items():
        for line in report["funding"]:
            parts = (
                {line["pref_code"]: line["amount_jpy"]}
                if "pref_code" in line
                else split_by_largest_remainder(line["amount_jpy"], areas[project])
            )
            for pref, yen in parts.items():
                out[(project, period, line["source_type"], line["stage"], pref)] += yen
    return dict(out)


def investment_by_prefecture_year(docs: list[dict[str, Any]]) -> dict[tuple[str, int, str], int]:
    """(pref_code, fiscal_year, stage) -> yen."""
    out: dict[tuple[str, int, str], int] = defaultdict(int)
    for (_project, period, _source, stage, pref), yen in investment_lines(docs).items():
        out[(pref, int(period[2:6]), stage)] += yen
    return dict(out)


# --- registration history, KPIs and the quarterly cycle ------------------------------------------

COUNT_UNITS = ("PERSON", "PERSON_CUM", "COUNT")


def _when(doc: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(doc["submitted_at"])


def area_history(docs: list[dict[str, Any]]) -> dict[str, list[tuple[datetime, dict[str, float]]]]:
    """project -> [(submitted_at, areas)] in submission order (later document wins a tie)."""
    history: dict[str, list[tuple[datetime, dict[str, float]]]] = defaultdict(list)
    for doc in docs:
        if doc.get("entity") == "project":
            history[doc["project_code"]].append((_when(doc), {a["pref_code"]: a["share"] for a in doc["areas"]}))
    for versions in history.values():
        versions.sort(key=lambda version: version[0])
    return dict(history)


def areas_at(
    history: dict[str, list[tuple[datetime, dict[str, float]]]], project: str, when: datetime
) -> dict[str, float]:
    """The areas registered when a report was submitted; before the first registration, the first."""
    versions = history[project]
    current = versions[0][1]
    for valid_from, areas in versions:
        if valid_from <= when:
            current = areas
    return current


def investment_lines_at_report_date(docs: list[dict[str, Any]]) -> dict[tuple[str, str, str, str, str], int]:
    """As investment_lines, but allocating with the areas valid at each report's submitted_at."""
    history = area_history(docs)
    out: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    for (project, period), report in latest_reports(docs).items():
        areas = areas_at(history, project, _when(report))
        for line in report["funding"]:
            parts = (
                {line["pref_code"]: line["amount_jpy"]}
                if "pref_code" in line
                else split_by_largest_remainder(line["amount_jpy"], areas)
            )
            for pref, yen in parts.items():
                out[(project, period, line["source_type"], line["stage"], pref)] += yen
    return dict(out)


def project_kpis(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(project, kpi_code) -> KPI definition from the project's latest registration."""
    latest: dict[str, dict[str, Any]] = {}
    for doc in docs:
        if doc.get("entity") == "project":
            if doc["project_code"] not in latest or _when(doc) >= _when(latest[doc["project_code"]]):
                latest[doc["project_code"]] = doc
    return {(code, kpi["kpi_code"]): kpi for code, doc in latest.items() for kpi in doc["kpis"]}


def sum_kpi_by_prefecture(docs: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], float]:
    """(project, kpi_code, period, pref_code) -> value for sum-KPIs: a value without pref_code is
    the project total; what the report's prefecture values of the same KPI do not account for is
    split over the areas valid at the report's date, whole counts by largest remainder, other
    units in proportion to the shares."""
    history, kpis = area_history(docs), project_kpis(docs)
    out: dict[tuple[str, str, str, str], float] = defaultdict(float)
    for (project, period), report in latest_reports(docs).items():
        areas = areas_at(history, project, _when(report))
        stated_parts: dict[str, float] = defaultdict(float)
        for entry in report["kpis"]:
            if "pref_code" in entry:
                stated_parts[entry["kpi_code"]] += entry["value"]
        for entry in report["kpis"]:
            kpi = kpis.get((project, entry["kpi_code"]))
            if kpi is None or kpi["aggregation"] != "sum":
                continue
            value = entry["value"]
            if "pref_code" not in entry:  # the project total: what the prefecture parts leave over
                value = max(value - stated_parts[entry["kpi_code"]], 0.0)
            if "pref_code" in entry:
                parts = {entry["pref_code"]: value}
            elif (kpi["unit"] in COUNT_UNITS or kpi["unit"].startswith("COUNT_")) and value == int(value) >= 0:
                parts = {p: float(v) for p, v in split_by_largest_remainder(int(value), areas).items()}
            else:
                parts = {p: value * share / sum(areas.values()) for p, share in areas.items()}
            for pref, part in parts.items():
                out[(project, entry["kpi_code"], period, pref)] += part
    return dict(out)


def latest_kpi_values(docs: list[dict[str, Any]]) -> dict[tuple[str, str, str], float]:
    """(project, kpi_code, period) -> value for project-level latest-KPIs: the last entry listed."""
    kpis = project_kpis(docs)
    out: dict[tuple[str, str, str], float] = {}
    for (project, period), report in latest_reports(docs).items():
        for entry in report["kpis"]:
            kpi = kpis.get((project, entry["kpi_code"]))
            if kpi is not None and kpi["aggregation"] == "latest" and "pref_code" not in entry:
                out[(project, entry["kpi_code"], period)] = entry["value"]
    return out


def quarter_due_date(period: str) -> date:
    fy, quarter = int(period[2:6]), int(period[7])
    end = {1: date(fy, 6, 30), 2: date(fy, 9, 30), 3: date(fy, 12, 31), 4: date(fy + 1, 3, 31)}[quarter]
    return end + timedelta(days=30)


def submission_statuses(docs: list[dict[str, Any]], as_of: date) -> dict[tuple[str, str], str]:
    """(project, quarterly period) -> on_time | late | missing: every quarter of start_fy..end_fy
    due by as_of, plus every quarter reported; on time when the first version's Japanese date is
    on or before the due date (quarter end + 30 days)."""
    jst = timezone(timedelta(hours=9))
    first: dict[tuple[str, str], date] = {}
    for doc in docs:
        if "entity" not in doc and len(doc["period"]) == 8 and doc["period"][6] == "Q":
            key = (doc["project_code"], doc["period"])
            day = _when(doc).astimezone(jst).date()
            first[key] = min(first.get(key, day), day)
    projects: dict[str, dict[str, Any]] = {}
    for doc in docs:
        if doc.get("entity") == "project":
            if doc["project_code"] not in projects or _when(doc) >= _when(projects[doc["project_code"]]):
                projects[doc["project_code"]] = doc
    expected = {
        (code, f"FY{fy}Q{q}")
        for code, p in projects.items()
        for fy in range(p["start_fy"], p["end_fy"] + 1)
        for q in (1, 2, 3, 4)
        if quarter_due_date(f"FY{fy}Q{q}") <= as_of
    }
    return {
        key: ("missing" if key not in first else "on_time" if first[key] <= quarter_due_date(key[1]) else "late")
        for key in expected | set(first)
    }


def period_end(period: str) -> date:
    """The last day of a fiscal period: FY2025 (to March 2026), FY2025H1 or H2, FY2025Q1..Q4."""
    fy = int(period[2:6])
    if len(period) == 6:
        return date(fy + 1, 3, 31)
    if period[6] == "H":
        return date(fy, 9, 30) if period[7] == "1" else date(fy + 1, 3, 31)
    return quarter_due_date(period) - timedelta(days=30)


def _combine(aggregation: str, values: list[float]) -> float:
    if aggregation == "sum":
        return sum(values)
    if aggregation == "max":
        return max(values)
    if aggregation == "mean":
        return sum(values) / len(values)
    return values[-1]  # latest: the last listed


def kpi_value_per_period(docs: list[dict[str, Any]]) -> dict[tuple[str, str, str], float]:
    """(project, kpi_code, period) -> the project-level value of a registered KPI: the entries
    without pref_code if there are any (the project total; for a sum-KPI, never less than its
    prefecture parts), else the prefecture entries combined
    (sum and latest add up over prefectures, max takes the largest, mean averages); entries for the
    same prefecture in one report combine by the KPI's aggregation."""
    kpis = project_kpis(docs)
    out: dict[tuple[str, str, str], float] = {}
    for (project, period), report in latest_reports(docs).items():
        entries: dict[str, dict[str | None, list[float]]] = defaultdict(lambda: defaultdict(list))
        for entry in report["kpis"]:
            entries[entry["kpi_code"]][entry.get("pref_code")].append(entry["value"])
        for code, by_pref in entries.items():
            kpi = kpis.get((project, code))
            if kpi is None:
                continue
            aggregation = kpi["aggregation"]
            per_pref = [_combine(aggregation, values) for pref, values in sorted(by_pref.items(), key=str) if pref]
            if None in by_pref:
                total = _combine(aggregation, by_pref[None])
                # a sum-KPI's total below its own prefecture parts is read as the parts
                out[(project, code, period)] = max(total, sum(per_pref)) if aggregation == "sum" else total
                continue
            out[(project, code, period)] = (
                max(per_pref)
                if aggregation == "max"
                else sum(per_pref) / len(per_pref)
                if aggregation == "mean"
                else sum(per_pref)
            )
    return out


def kpi_progress(docs: list[dict[str, Any]], as_of: date) -> dict[tuple[str, str], dict[str, Any]]:
    """(project, kpi_code) -> level, progress and status at ``as_of``: a sum-KPI's level is its
    baseline plus every value reported; any other (or a unit ending in _CUM) is the latest, the
    largest or the mean of the values reported. progress = (level - baseline) / (target - baseline);
    the status compares it with the share of the days from 1 April of start_fy to 31 March after
    target_fy passed at the end of the last period reported (on track from 90 % of that)."""
    as_of_fy = as_of.year - (1 if as_of.month < 4 else 0)
    latest_project: dict[str, dict[str, Any]] = {}
    for doc in docs:
        if doc.get("entity") == "project":
            code = doc["project_code"]
            if code not in latest_project or _when(doc) >= _when(latest_project[code]):
                latest_project[code] = doc
    values = kpi_value_per_period(docs)
    out = {}
    for (project, code), kpi in project_kpis(docs).items():
        registration = latest_project[project]
        last_fy = min(as_of_fy, max(registration["end_fy"], kpi["target_fy"]))
        if registration["start_fy"] > last_fy:
            continue
        reported = sorted(
            (period_end(period), value)
            for (p, c, period), value in values.items()
            if p == project and c == code and int(period[2:6]) <= last_fy
        )
        rule = "latest" if kpi["unit"].upper().endswith("_CUM") else kpi["aggregation"]
        baseline, target = kpi["baseline"], kpi["target"]
        if not reported:
            out[(project, code)] = {"level": None, "progress": None, "status": "not_reported"}
            continue
        numbers = [v for _end, v in reported]
        level = {
            "sum": baseline + sum(numbers),
            "max": max(numbers),
            "mean": sum(numbers) / len(numbers),
        }.get(rule, numbers[-1])
        if target == baseline:
            out[(project, code)] = {"level": level, "progress": None, "status": "no_target"}
            continue
        progress = (level - baseline) / (target - baseline)
        start, end = date(registration["start_fy"], 4, 1), date(kpi["target_fy"] + 1, 3, 31)
        expected = min(1.0, max(0.0, (reported[-1][0] - start).days / (end - start).days))
        status = "achieved" if progress >= 1 else "on_track" if progress >= 0.9 * expected else "behind"
        out[(project, code)] = {"level": level, "progress": progress, "status": status}
    return out
