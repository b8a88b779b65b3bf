"""The bad-input corpus: documents that must never reach the lake as valid.

Each case is the exact bytes of one message (and of one .json file for `kouiki submit`), the topic
it belongs on, what `kouiki submit` must say (a JSON path or a phrase), and the dead-letter class
the lander must give it when it is injected raw into the topic. The valid registrations in
``REGISTRY`` are submitted first, so codes that *look* right can still be unknown.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC
from kouiki.sample.generator import generate

_SAMPLE = generate(seed=8, quarters=2)
REGISTRY: list[dict[str, Any]] = _SAMPLE.registry
_REPORT = _SAMPLE.reports[0]
_PROJECT = next(d for d in REGISTRY if d["entity"] == "project" and d["project_code"] == _REPORT["project_code"])
_CONSORTIUM = next(
    d for d in REGISTRY if d["entity"] == "consortium" and d["consortium_code"] == _REPORT["consortium_code"]
)
_OTHER_PROJECT = next(
    d for d in REGISTRY if d["entity"] == "project" and d["consortium_code"] != _REPORT["consortium_code"]
)
_OUTSIDE_PREF = next(f"{p:02d}" for p in range(1, 48) if f"{p:02d}" not in _CONSORTIUM["prefectures"])


@dataclass(frozen=True)
class Case:
    name: str
    topic: str
    raw: bytes
    submit_says: str  # a JSON path like "$.period", or a phrase of the file-level error
    dead_letter_class: str


def _encode(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _report(change: Callable[[dict[str, Any]], Any]) -> bytes:
    doc = copy.deepcopy(_REPORT)
    change(doc)
    return _encode(doc)


def _registration(base: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> bytes:
    doc = copy.deepcopy(base)
    change(doc)
    return _encode(doc)


def _set(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.pop(key)


VALID = _encode(_REPORT)
R, G = REPORTS_TOPIC, REGISTRY_TOPIC
S, U = "SchemaViolation", "UnknownCode"
CASES = [
    Case("truncated JSON", R, VALID[: len(VALID) // 2], "invalid JSON", "InvalidJson"),
    Case("UTF-8 byte-order mark", R, b"\xef\xbb\xbf" + VALID, "byte-order mark", "InvalidJson"),
    Case(
        "Shift_JIS bytes",
        R,
        VALID.replace("合成データ".encode(), "合成データ".encode("shift_jis")),
        "not UTF-8",
        "NotUtf8",
    ),
    Case("Latin-1 bytes", R, VALID.replace(b'"summary_ja": "', b'"summary_ja": "\xe9t\xe9 '), "not UTF-8", "NotUtf8"),
    Case("empty message", R, b"", "invalid JSON", "InvalidJson"),
    Case("JSON null", R, b"null", "$", S),
    Case("JSON array instead of object", R, b"[]", "$", S),
    Case("JSON string instead of object", R, b'"report"', "$", S),
    Case("trailing garbage", R, VALID + b" garbage", "invalid JSON", "InvalidJson"),
    Case(
        "invalid escape", R, VALID.replace(b'"summary_ja": "', b'"summary_ja": "\\x', 1), "invalid JSON", "InvalidJson"
    ),
    Case(
        "full-width digits in project code",
        R,
        _report(_set("project_code", value=_REPORT["project_code"][:-2] + "０１")),
        "$.project_code",
        S,
    ),
    Case(
        "full-width digits in prefecture",
        R,
        _report(_set("funding", 0, "pref_code", value="１３")),
        "$.funding[0].pref_code",
        S,
    ),
    Case("version as string", R, _report(_set("version", value="2")), "$.version", S),
    Case("version zero", R, _report(_set("version", value=0)), "$.version", S),
    Case("float yen", R, _report(_set("funding", 0, "amount_jpy", value=1000.5)), "$.funding[0].amount_jpy", S),
    Case("negative yen", R, _report(_set("funding", 0, "amount_jpy", value=-1)), "$.funding[0].amount_jpy", S),
    Case("yen as string", R, _report(_set("funding", 0, "amount_jpy", value="1000")), "$.funding[0].amount_jpy", S),
    Case(
        "yen beyond 100 trillion",
        R,
        _report(_set("funding", 0, "amount_jpy", value=10**15)),
        "$.funding[0].amount_jpy",
        S,
    ),
    Case("unknown prefecture 48", R, _report(_set("funding", 0, "pref_code", value="48")), "$.funding[0].pref_code", S),
    Case("prefecture 00", R, _report(_set("kpis", 0, "pref_code", value="00")), "$.kpis[0].pref_code", S),
    Case("period FY2026Q5", R, _report(_set("period", value="FY2026Q5")), "$.period", S),
    Case("period without FY", R, _report(_set("period", value="2026Q1")), "$.period", S),
    Case(
        "date 2026-02-30",
        R,
        _report(_set("progress", "milestones", 0, "planned_date", value="2026-02-30")),
        "$.progress.milestones[0].planned_date",
        "RuleViolation",
    ),
    Case(
        "month 13",
        R,
        _report(_set("progress", "milestones", 0, "planned_date", value="2026-13-01")),
        "$.progress.milestones[0].planned_date",
        "RuleViolation",
    ),
    Case(
        "future submitted_at",
        R,
        _report(_set("submitted_at", value="2099-04-01T09:00:00+09:00")),
        "$.submitted_at",
        "RuleViolation",
    ),
    Case(
        "submitted_at without offset",
        R,
        _report(_set("submitted_at", value="2026-04-01T09:00:00")),
        "$.submitted_at",
        S,
    ),
    Case("event_id not a UUID", R, _report(_set("event_id", value="report-1")), "$.event_id", S),
    Case("missing event_id", R, _report(_delete("event_id")), "'event_id' is a required property", S),
    Case("schema_version 2.0", R, _report(_set("schema_version", value="2.0")), "$.schema_version", S),
    Case("unknown field", R, _report(_set("colour", value="blue")), "colour", S),
    Case(
        "duplicate keys",
        R,
        VALID.replace(b'"version": 1', b'"version": 1, "version": 9', 1),
        "duplicate key",
        "InvalidJson",
    ),
    Case("NaN KPI value", R, VALID.replace(b'"value": ', b'"value": NaN, "x": ', 1), "invalid JSON", "InvalidJson"),
    Case(
        "Infinity KPI value",
        R,
        _report(_set("kpis", 0, "value", value=0)).replace(b'"value": 0', b'"value": Infinity', 1),
        "invalid JSON",
        "InvalidJson",
    ),
    Case("deeply nested JSON", R, b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "invalid JSON", "InvalidJson"),
    Case(
        "2 MB message",
        R,
        _report(_set("progress", "summary_ja", value="あ" * 700_000)),
        "bytes; the limit is",
        "MessageTooLarge",
    ),
    Case("unknown status", R, _report(_set("progress", "status", value="late")), "$.progress.status", S),
    Case("unknown stage", R, _report(_set("funding", 0, "stage", value="spent")), "$.funding[0].stage", S),
    Case(
        "unknown source type",
        R,
        _report(_set("funding", 0, "source_type", value="lottery")),
        "$.funding[0].source_type",
        S,
    ),
    Case(
        "percent over 100",
        R,
        _report(_set("progress", "percent_complete", value=150)),
        "$.progress.percent_complete",
        S,
    ),
    Case(
        "unknown project code",
        R,
        _report(_set("project_code", value=_REPORT["consortium_code"] + "-P99")),
        "$.project_code",
        U,
    ),
    Case(
        "unknown consortium code",
        R,
        _report(lambda d: d.update(consortium_code="KR-ZZZ-99", project_code="KR-ZZZ-99-P01")),
        "$.consortium_code",
        U,
    ),
    Case(
        "project of another consortium",
        R,
        _report(_set("project_code", value=_OTHER_PROJECT["project_code"])),
        "$.consortium_code",
        U,
    ),
    Case("period outside the project's years", R, _report(_set("period", value="FY2040Q1")), "$.period", U),
    Case(
        "KPI not registered on the project",
        R,
        _report(_set("kpis", 0, "kpi_code", value="NOT_REGISTERED")),
        "$.kpis[0].kpi_code",
        U,
    ),
    Case(
        "funding prefecture outside the consortium",
        R,
        _report(_set("funding", 0, "pref_code", value=_OUTSIDE_PREF)),
        "$.funding[0].pref_code",
        U,
    ),
    Case("report on the registry topic", G, VALID, "", "WrongTopic"),
    Case(
        "shares summing to 0.99",
        G,
        _registration(
            _PROJECT,
            lambda d: d.update(
                areas=[
                    {"pref_code": _CONSORTIUM["prefectures"][0], "share": 0.5},
                    {"pref_code": _CONSORTIUM["prefectures"][1], "share": 0.49},
                ]
            ),
        ),
        "$.areas",
        "RuleViolation",
    ),
    Case(
        "end_fy before start_fy",
        G,
        _registration(_PROJECT, _set("end_fy", value=_PROJECT["start_fy"] - 1)),
        "$.end_fy",
        "RuleViolation",
    ),
    Case(
        "project area outside the consortium",
        G,
        _registration(_PROJECT, _set("areas", value=[{"pref_code": _OUTSIDE_PREF, "share": 1.0}])),
        "$.areas[0].pref_code",
        U,
    ),
    Case(
        "consortium of one prefecture (not 01/47)",
        G,
        _registration(_CONSORTIUM, _set("prefectures", value=["13"])),
        "$.prefectures",
        "RuleViolation",
    ),
    Case(
        "unknown member sector",
        G,
        _registration(_CONSORTIUM, _set("members", 0, "sector", value="MEDIA")),
        "$.members[0].sector",
        S,
    ),
]
