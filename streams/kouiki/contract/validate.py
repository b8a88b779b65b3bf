"""Validate contract documents against the JSON Schemas kept in ``schemas/v1`` plus the rules that a
schema cannot express (shares summing to 1, consortium prefecture counts, fiscal-year order)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from kouiki.config import REGISTRY_TOPIC, REPORTS_TOPIC

SCHEMA_VERSION = "v1"
DOCUMENT_KINDS = ("consortium", "project", "report")
CLOCK_SKEW = timedelta(minutes=5)
SINGLE_PREFECTURE_REGIONS = {"01", "47"}  # Hokkaido and Okinawa count as regions on their own


@dataclass(frozen=True)
class Violation:
    """One problem in one document, located by a JSON path such as ``$.funding[2].amount_jpy``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def kind_of(doc: Any) -> str:
    """Which contract document this is: registry documents name their ``entity``, reports do not."""
    if isinstance(doc, dict) and doc.get("entity") in ("consortium", "project"):
        return str(doc["entity"])
    return "report"


def topic_for(kind: str) -> str:
    return REPORTS_TOPIC if kind == "report" else REGISTRY_TOPIC


def key_for(doc: dict[str, Any]) -> str:
    """The natural code a document is keyed by, so one project's events stay in order."""
    if doc.get("entity") == "consortium":
        return str(doc["consortium_code"])
    return str(doc["project_code"])


@cache
def _schema_texts() -> dict[str, dict[str, Any]]:
    folder = resources.files("kouiki.contract").joinpath("schemas", SCHEMA_VERSION)
    return {name: json.loads(folder.joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))
            for name in ("common", *DOCUMENT_KINDS)}


@cache
def _validator(kind: str) -> Draft202012Validator:
    texts = _schema_texts()
    registry: Registry[Any] = Registry().with_resources(
        (f"{name}.schema.json", Resource.from_contents(text)) for name, text in texts.items()
    )
    registry = registry.with_resources((text["$id"], Resource.from_contents(text)) for text in texts.values())
    return Draft202012Validator(texts[kind], registry=registry, format_checker=FormatChecker())


def json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate(doc: Any) -> list[Violation]:
    """All violations of the document, schema first, then the cross-field rules."""
    if not isinstance(doc, dict):
        return [Violation("$", f"expected a JSON object, got {type(doc).__name__}")]
    kind = kind_of(doc)
    errors = sorted(_validator(kind).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    violations = [Violation(json_path(e.absolute_path), _message(e)) for e in errors]
    if not violations:
        violations.extend(_rules(kind, doc))
    return violations


def _message(error: Any) -> str:
    if error.validator == "additionalProperties":
        return str(error.message)
    if error.validator == "pattern":
        return f"{error.instance!r} does not match the required format {error.validator_value}"
    return str(error.message)


def _rules(kind: str, doc: dict[str, Any]) -> Iterator[Violation]:
    yield from _envelope_rules(doc)
    if kind == "consortium":
        prefs = doc["prefectures"]
        if len(prefs) < 2 and not set(prefs) <= SINGLE_PREFECTURE_REGIONS:
            yield Violation("$.prefectures", "a consortium needs at least two prefectures "
                                             "(one is allowed only for 01 Hokkaido or 47 Okinawa)")
    elif kind == "project":
        yield from _project_rules(doc)


def _envelope_rules(doc: dict[str, Any]) -> Iterator[Violation]:
    try:
        submitted = datetime.fromisoformat(doc["submitted_at"])
    except ValueError as exc:
        yield Violation("$.submitted_at", f"not a valid timestamp: {exc}")
        return
    if submitted > datetime.now(UTC) + CLOCK_SKEW:
        yield Violation("$.submitted_at", f"{doc['submitted_at']} is in the future")


def _project_rules(doc: dict[str, Any]) -> Iterator[Violation]:
    if doc["end_fy"] < doc["start_fy"]:
        yield Violation("$.end_fy", f"end_fy {doc['end_fy']} is before start_fy {doc['start_fy']}")
    total = math.fsum(area["share"] for area in doc["areas"])
    if abs(total - 1.0) > 1e-9:
        yield Violation("$.areas", f"area shares must sum to exactly 1, they sum to {total:.6g}")
    seen: set[str] = set()
    for i, area in enumerate(doc["areas"]):
        if area["pref_code"] in seen:
            yield Violation(f"$.areas[{i}].pref_code", f"prefecture {area['pref_code']} is listed twice")
        seen.add(area["pref_code"])
    if not str(doc["project_code"]).startswith(str(doc["consortium_code"]) + "-"):
        yield Violation("$.project_code", "project_code must start with its consortium_code")
