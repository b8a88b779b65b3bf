"""The compiled gate (msgspec, plus the rules beyond the schema) must never accept what the JSON
Schema files reject, and may reject what they accept only where the gate is stricter on purpose:
a number written with a fraction part (2.0) in an integer field, which JSON Schema counts as an
integer. Checked on the sample data, the bad-input corpus and thousands of random mutations."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from kouiki.contract import model, rules
from kouiki.contract.check import schema_violations
from kouiki.sample.generator import generate
from tests.support.bad_inputs import CASES

SAMPLE = generate(seed=13, quarters=3)
DOCS = SAMPLE.registry + SAMPLE.reports
ODD_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    1.5,
    10**15,
    "",
    "x",
    "48",
    "FY2026Q5",
    [],
    {},
    [1],
    {"a": 1},
    "2026-02-30",
    "１３",
    2.0,
    -0.0,
    "KR-AB-01",
    100,
    101,
]


def gate_accepts(doc: Any) -> bool:
    return gate_verdict(doc) == "accepted"


def gate_verdict(doc: Any) -> str:
    """'accepted', or why the gate or the local rules refused."""
    try:
        decoded = model.decode(json.dumps(doc, ensure_ascii=False).encode())
    except model.GateError as exc:
        return str(exc)
    return "rules" if rules.check_local(decoded) else "accepted"


def integral_float_in(doc: Any) -> bool:
    if isinstance(doc, dict):
        return any(integral_float_in(v) for v in doc.values())
    if isinstance(doc, list):
        return any(integral_float_in(v) for v in doc)
    return isinstance(doc, float) and doc.is_integer()


def leaves(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(doc, dict):
        return [path] + [p for k, v in doc.items() for p in leaves(v, (*path, k))]
    if isinstance(doc, list):
        return [path] + [p for i, v in enumerate(doc) for p in leaves(v, (*path, i))]
    return [path]


def mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    path = rng.choice([p for p in leaves(doc) if p])
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    action = rng.random()
    if action < 0.15 and isinstance(parent, dict):
        del parent[path[-1]]
    elif action < 0.25 and isinstance(parent, dict):
        parent["unexpected"] = 1
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
    return doc


def test_valid_documents_pass_both() -> None:
    assert all(gate_accepts(d) and not schema_violations(d) for d in DOCS)


@pytest.mark.parametrize("case", [c for c in CASES if c.dead_letter_class == "SchemaViolation"], ids=lambda c: c.name)
def test_schema_cases_are_rejected_by_both(case: Any) -> None:
    doc = json.loads(case.raw)
    assert not gate_accepts(doc)
    assert schema_violations(doc)


def test_random_mutations_get_the_same_verdict() -> None:
    rng = random.Random(2026)
    accepted_but_schema_rejects, rejected_but_schema_accepts = [], []
    for _ in range(4000):
        doc = mutate(rng.choice(DOCS), rng)
        verdict, schema_ok = gate_verdict(doc), not schema_violations(doc)
        if verdict == "accepted" and not schema_ok:
            accepted_but_schema_rejects.append(doc)
        if (
            verdict not in ("accepted", "rules")
            and schema_ok
            and not ("Expected `int`, got `float`" in verdict and integral_float_in(doc))
        ):
            rejected_but_schema_accepts.append((verdict, doc))
    assert accepted_but_schema_rejects == []
    assert rejected_but_schema_accepts == []


def _report_text(**replace: str) -> str:
    report = copy.deepcopy(SAMPLE.reports[0])
    report["progress"]["summary_ja"] = "進捗: 順調"
    text = json.dumps(report, ensure_ascii=False)
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text


def _duplicate(text: str, key: str, value: str) -> str:
    """``text`` with ``key`` written a second time, right after its first occurrence."""
    head, tail = text.split(f'"{key}": ', 1)
    return f'{head}"{key}": {value}, "{key}": {tail}'


@pytest.mark.parametrize(
    ("text", "duplicated"),
    [
        (_report_text(), False),
        (json.dumps(json.loads(_report_text()), ensure_ascii=False, indent=2), False),
        (json.dumps(json.loads(_report_text()), separators=(",", ":"), ensure_ascii=False), False),
        (_report_text().replace('": ', '" :\t'), False),
        (_report_text(**{"進捗: 順調": '進捗\\": 順調'}), False),
        (_report_text(**{"進捗: 順調": "進捗\\u003a 順調"}), False),
        (_duplicate(_report_text(), "period", '"FY2020Q1"'), True),
        (_duplicate(_report_text(), "submitted_at", '"2020-01-01T00:00:00+09:00"'), True),
        (_duplicate(_report_text(), "amount_jpy", "1"), True),
        (_duplicate(_report_text(), "period", '"FY2020Q1"').replace('": ', '" : '), True),
        (_duplicate(_report_text(**{"進捗: 順調": "進捗\\u003a 順調"}), "version", "1"), True),
    ],
    ids=[
        "compact-spaces",
        "indented",
        "no-spaces",
        "space-before-colon",
        "escaped-quote-colon",
        "escaped-colon",
        "top-level",
        "value-with-colons",
        "nested",
        "space-before-colon-dup",
        "escaped-colon-dup",
    ],
)
def test_duplicate_keys_are_found_however_the_json_is_spelled(text: str, duplicated: bool) -> None:
    verdict = gate_verdict(json.loads(text)) if not duplicated else None
    try:
        model.decode(text.encode())
    except model.GateError as exc:
        assert duplicated and "duplicate key" in str(exc)
    else:
        assert not duplicated and verdict == "accepted"
