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
from fractions import Fraction
from pathlib import Path
from typing import Any


def read_jsonl(paths: Iterable[Path]) -> list[dict[str, Any]]:
    docs = []
    for path in paths:
        docs.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return docs


def split_by_largest_remainder(amount: int, shares: dict[str, float]) -> dict[str, int]:
    exact = {pref: amount * Fraction(str(share)) / sum(Fraction(str(s)) for s in shares.values())
             for pref, share in shares.items()}
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
            parts = ({line["pref_code"]: line["amount_jpy"]} if "pref_code" in line
                     else split_by_largest_remainder(line["amount_jpy"], areas[project]))
            for pref, yen in parts.items():
                out[(project, period, line["source_type"], line["stage"], pref)] += yen
    return dict(out)


def investment_by_prefecture_year(docs: list[dict[str, Any]]) -> dict[tuple[str, int, str], int]:
    """(pref_code, fiscal_year, stage) -> yen."""
    out: dict[tuple[str, int, str], int] = defaultdict(int)
    for (_project, period, _source, stage, pref), yen in investment_lines(docs).items():
        out[(pref, int(period[2:6]), stage)] += yen
    return dict(out)
