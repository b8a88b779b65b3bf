"""The duplicate-key check: well-formed documents take the fast path (the colon count alone clears
them), and a repeated key is found in every kind of document, at the top level and nested. That the
count is exact for every field is held in test_contract_schema_parity.py."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kouiki.contract import duplicate_keys, model
from kouiki.sample import national
from kouiki.sample.generator import generate

SAMPLE = generate(seed=13, quarters=3)
NATIONAL = national.generate(seed=1, consortia=12, projects_per_consortium=3)
TOP = {"consortium": model.Consortium, "project": model.Project, "report": model.Report}


def raw_of(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "docs",
    [SAMPLE.registry + SAMPLE.reports, list(NATIONAL.documents())],
    ids=["sample", "national-sample"],
)
def test_every_sample_document_takes_the_fast_path(docs: list[dict[str, Any]]) -> None:
    slow = []
    for doc in docs:
        raw = raw_of(doc)
        decoded = model.decode(raw)
        if not duplicate_keys.cleared_by_count(raw, decoded):
            slow.append((doc["event_id"], raw.count(b":"), duplicate_keys.expected_colons(decoded)))
    assert slow == []


def _duplicate(text: str, key: str, value: str) -> str:
    """``text`` with ``key`` written a second time, right after its first occurrence."""
    head, tail = text.split(f'"{key}": ', 1)
    return f'{head}"{key}": {value}, "{key}": {tail}'


def _document(entity: str) -> str:
    doc = copy.deepcopy(next(d for d in SAMPLE.registry if d["entity"] == entity))
    return json.dumps(doc, ensure_ascii=False)


REGISTRY_CASES = [
    ("project", "project_code", '"KR-AB-01-P01"'),  # top level
    ("project", "title_ja", '"題名: その一"'),  # top level, a value with a colon
    ("project", "share", "0.5"),  # nested in areas
    ("project", "contributes_to", '"P1"'),  # nested in kpis
    ("consortium", "declared_on", '"2020-01-01"'),  # top level
    ("consortium", "name_ja", '"名前: 仮"'),  # top level, a value with a colon
    ("consortium", "role", '"事務局"'),  # nested in members
    ("consortium", "sector", '"GOV"'),  # nested in members
]


@pytest.mark.parametrize(("entity", "key", "value"), REGISTRY_CASES, ids=[f"{c[0]}-{c[1]}" for c in REGISTRY_CASES])
def test_registry_documents_with_a_repeated_key_are_refused(entity: str, key: str, value: str) -> None:
    text = _document(entity)
    model.decode(text.encode())  # the document itself passes
    with pytest.raises(model.GateError, match="duplicate key"):
        model.decode(_duplicate(text, key, value).encode())


@pytest.mark.parametrize("entity", ["project", "consortium"])
def test_registry_documents_spelled_differently_pass(entity: str) -> None:
    doc = json.loads(_document(entity))
    for text in (
        json.dumps(doc, ensure_ascii=False, indent=2),
        json.dumps(doc, separators=(",", ":"), ensure_ascii=False),
        json.dumps(doc),  # \u escapes: the exact parse decides
    ):
        assert isinstance(model.decode(text.encode()), TOP[entity])
