"""Contract v1: valid documents pass; invalid ones are rejected with the JSON path of the problem."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kouiki.contract.check import check_bytes, kind_of, validate
from kouiki.intake import files as reader
from kouiki.messaging.topics import key_for, topic_for
from kouiki.sample.generator import generate

SAMPLE = generate(seed=3, quarters=2)


def validate_raw(raw: bytes | None) -> list[str]:
    assert raw is not None
    return [v.path for v in check_bytes(raw).violations]


def first(kind: str) -> dict[str, Any]:
    docs = SAMPLE.reports if kind == "report" else [d for d in SAMPLE.registry if d["entity"] == kind]
    return copy.deepcopy(docs[0])


def test_every_generated_document_is_valid() -> None:
    problems = [(d["event_id"], validate(d)) for d in SAMPLE.registry + SAMPLE.reports if validate(d)]
    assert problems == []


def test_documents_are_routed_and_keyed_by_their_natural_code() -> None:
    consortium, project, report = first("consortium"), first("project"), first("report")
    assert (kind_of(consortium), topic_for("consortium"), key_for(consortium)) == (
        "consortium",
        "kouiki.registry.v1",
        consortium["consortium_code"],
    )
    assert topic_for(kind_of(project)) == "kouiki.registry.v1"
    assert key_for(project) == project["consortium_code"]  # a consortium and its projects stay in order
    assert (kind_of(report), topic_for("report"), key_for(report)) == (
        "report",
        "kouiki.reports.v1",
        report["project_code"],
    )


def _set(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


BAD_REPORTS = [
    (["funding", 0, "amount_jpy"], 1000.5, "$.funding[0].amount_jpy"),
    (["funding", 0, "amount_jpy"], -1, "$.funding[0].amount_jpy"),
    (["funding", 0, "amount_jpy"], "1000", "$.funding[0].amount_jpy"),
    (["funding", 0, "pref_code"], "48", "$.funding[0].pref_code"),
    (["funding", 0, "pref_code"], "１３", "$.funding[0].pref_code"),
    (["funding", 0, "stage"], "spent", "$.funding[0].stage"),
    (["period"], "FY2026Q5", "$.period"),
    (["version"], 0, "$.version"),
    (["progress", "status"], "late", "$.progress.status"),
    (["progress", "percent_complete"], 101, "$.progress.percent_complete"),
    (["progress", "milestones", 0, "planned_date"], "2026-02-30", "$.progress.milestones[0].planned_date"),
    (["submitted_at"], "2099-01-01T00:00:00+09:00", "$.submitted_at"),
    (["event_id"], "not-a-uuid", "$.event_id"),
    (["project_code"], "KR-SYN-03-P1", "$.project_code"),
]


@pytest.mark.parametrize(("path", "value", "where"), BAD_REPORTS, ids=[w for _, _, w in BAD_REPORTS])
def test_invalid_report_field_is_located(path: list[Any], value: Any, where: str) -> None:
    violations = validate(_set(first("report"), path, value))
    assert where in [v.path for v in violations], violations


def test_missing_and_unknown_fields_are_named() -> None:
    report = first("report")
    del report["period"]
    report["colour"] = "blue"
    messages = " ".join(str(v) for v in validate(report))
    assert "'period' is a required property" in messages
    assert "colour" in messages


def test_area_shares_must_sum_to_one() -> None:
    project = first("project")
    project["areas"] = [{"pref_code": "13", "share": 0.5}, {"pref_code": "14", "share": 0.49}]
    assert [v.path for v in validate(project)] == ["$.areas"]


def test_single_prefecture_consortium_only_for_hokkaido_and_okinawa() -> None:
    consortium = first("consortium")
    consortium["prefectures"] = ["13"]
    assert [v.path for v in validate(consortium)] == ["$.prefectures"]
    consortium["prefectures"] = ["47"]
    assert validate(consortium) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"a": 1', "invalid JSON"),
        (b"\xef\xbb\xbf{}", "byte-order mark"),
        (b"{}" + "事業".encode("shift_jis"), "not UTF-8"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"a": NaN}', "NaN is not valid JSON"),
    ],
)
def test_unreadable_files_give_a_located_error(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(content)
    records = list(reader.read_records(path))
    assert len(records) == 1 and records[0].raw is None
    assert expected in (records[0].error or "")
    assert records[0].error_ja


def test_jsonl_records_carry_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "reports.jsonl"
    good = json.dumps(first("report"), ensure_ascii=False)
    path.write_text(f"{good}\n\n{{broken\n{good}\n", encoding="utf-8")
    records = list(reader.read_records(path))
    assert [(r.index, r.line) for r in records] == [(1, 1), (2, 3), (3, 4)]
    assert records[1].where == f"{path}: record 2 (line 3)"
    assert [validate_raw(r.raw) for r in records] == [[], ["$"], []]
