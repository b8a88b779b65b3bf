"""The contract's JSON Schemas compiled into msgspec Structs: a C-speed gate for the hot paths
(submit and the lander), about 100x faster than walking the JSON Schema.

The JSON Schema files stay the contract and the source of located, human-readable errors: a document
the gate rejects is re-checked against the schema to say exactly what is wrong. A differential test
(tests/unit/test_contract_model.py) holds the two to the same verdicts on the sample data, the
bad-input corpus and thousands of random mutations.

The gate is stricter than the schema in one respect, on purpose: an integer field (yen, years,
versions) refuses a number written with a fraction part such as 2.0, which JSON Schema counts as an
integer.

Every optional field defaults to UNSET, so the decoded document tells exactly which keys were
present; counting them against the key ends in the text detects duplicate keys, which JSON
parsers silently merge.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType


class _Pattern(dict[str, bool]):
    """A JSON Schema ``pattern`` for values that repeat, matched the way jsonschema does it
    (``re.search``) and remembered: ``PATTERN[value]`` is a dictionary lookup after the first time.

    Patterns are checked after decoding instead of by msgspec, which would run a regex for every
    field of every document, although codes repeat across reports (47 prefectures, a few hundred
    projects, a few dozen KPI codes)."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self._search = re.compile(pattern).search

    def __missing__(self, value: str) -> bool:
        valid = self._search(value) is not None
        if len(self) < 100_000:
            self[value] = valid
        return valid


PREF_CODE = _Pattern("^(0[1-9]|[1-3][0-9]|4[0-7])$")
CONSORTIUM_CODE = _Pattern("^KR-[A-Z0-9]{2,8}-[0-9]{2}$")
PROJECT_CODE = _Pattern("^KR-[A-Z0-9]{2,8}-[0-9]{2}-P[0-9]{2}$")
CODE = _Pattern("^[A-Z0-9][A-Z0-9_-]{0,39}$")
POLICY_CODE = _Pattern("^(G[1-3R]|P[1-5])(\\.[0-9A-Za-z]+)*$")
PERIOD = _Pattern("^FY20[0-9]{2}(Q[1-4]|H[12])?$")
DATE = _Pattern("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Event ids and timestamps never repeat: matched every time.
UUID = re.compile("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$").search
TIMESTAMP = re.compile(
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
).search

# Strings with a pattern: the names say which one; ``_patterns_ok`` checks them after decoding.
PrefCode = str
ConsortiumCode = str
ProjectCode = str
Code = str
Uuid = str
Timestamp = str
Date = str
Yen = Annotated[int, Meta(ge=0, le=100_000_000_000_000)]
FiscalYear = Annotated[int, Meta(ge=2000, le=2100)]
TextJa = Annotated[str, Meta(min_length=1, max_length=2000)]


class _Strict(Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    pass


class Member(_Strict):
    name_ja: TextJa
    sector: Literal["GOV", "IND", "ACA", "FIN", "LAB", "MED", "PRO", "NPO", "OTHER"]
    role: Annotated[str, Meta(min_length=1, max_length=200)]


class Consortium(_Strict):
    schema_version: Literal["1.0"]
    event_id: Uuid
    submitted_at: Timestamp
    submitted_by: Annotated[str, Meta(min_length=1, max_length=200)]
    entity: Literal["consortium"]
    consortium_code: ConsortiumCode
    name_ja: TextJa
    declared_on: Date
    prefectures: Annotated[list[PrefCode], Meta(min_length=1, max_length=47)]
    members: Annotated[list[Member], Meta(min_length=1)]
    name_en: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET


class Area(_Strict):
    pref_code: PrefCode
    share: Annotated[float, Meta(gt=0, le=1)]


class Kpi(_Strict):
    kpi_code: Code
    name_ja: TextJa
    unit: Annotated[str, Meta(min_length=1, max_length=40)]
    aggregation: Literal["sum", "latest", "max", "mean"]
    direction: Literal["increase", "decrease"]
    baseline: float
    target: float
    target_fy: FiscalYear
    contributes_to: Annotated[str, Meta(min_length=1, max_length=40)]


class Project(_Strict):
    schema_version: Literal["1.0"]
    event_id: Uuid
    submitted_at: Timestamp
    submitted_by: Annotated[str, Meta(min_length=1, max_length=200)]
    entity: Literal["project"]
    project_code: ProjectCode
    consortium_code: ConsortiumCode
    title_ja: TextJa
    theme: Literal[
        "TOURISM",
        "INDUSTRY",
        "GX",
        "DX",
        "TALENT",
        "TRANSPORT",
        "INFRA",
        "MEDICAL",
        "FOOD_EXPORT",
        "LOGISTICS",
        "DISASTER",
        "OTHER",
    ]
    policy_code: str
    start_fy: FiscalYear
    end_fy: FiscalYear
    planned_budget_jpy: Yen
    areas: Annotated[list[Area], Meta(min_length=1, max_length=47)]
    kpis: list[Kpi]
    title_en: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET


class Milestone(_Strict):
    milestone_code: Code
    title_ja: TextJa
    planned_date: Date
    status: Literal["not_started", "on_track", "delayed", "done", "dropped"]
    actual_date: Date | None | UnsetType = UNSET


class Progress(_Strict):
    status: Literal["not_started", "on_track", "at_risk", "delayed", "completed", "suspended"]
    percent_complete: Annotated[float, Meta(ge=0, le=100)]
    summary_ja: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET
    milestones: list[Milestone] | UnsetType = UNSET


class Funding(_Strict):
    source_type: Literal[
        "national_grant", "prefecture", "municipality", "private", "corporate_furusato", "loan", "other"
    ]
    stage: Literal["planned", "committed", "executed"]
    amount_jpy: Yen
    pref_code: PrefCode | UnsetType = UNSET


class KpiValue(_Strict):
    kpi_code: Code
    value: float
    pref_code: PrefCode | UnsetType = UNSET


class Report(_Strict):
    schema_version: Literal["1.0"]
    event_id: Uuid
    submitted_at: Timestamp
    submitted_by: Annotated[str, Meta(min_length=1, max_length=200)]
    consortium_code: ConsortiumCode
    project_code: ProjectCode
    period: str
    version: Annotated[int, Meta(ge=1)]
    progress: Progress
    funding: list[Funding]
    kpis: list[KpiValue]


Document = Consortium | Project | Report
_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "consortium": msgspec.json.Decoder(Consortium),
    "project": msgspec.json.Decoder(Project),
    "report": msgspec.json.Decoder(Report),
}


class _Entity(Struct):
    entity: str | UnsetType = UNSET


_ENTITY_DECODER = msgspec.json.Decoder(_Entity)


def kind_of_bytes(raw: bytes) -> str:
    if b'"entity"' not in raw:
        return "report"
    try:
        entity = _ENTITY_DECODER.decode(raw).entity
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return "report"
    return entity if entity in ("consortium", "project") else "report"


def _expected_colons(doc: Document) -> int:
    """Check every pattern-constrained string (GateError if one fails), and count the colons the
    document's text holds if no key is repeated: one after each key, that is one per field present
    (required fields always are; absent optional ones are UNSET), plus those inside the free-text
    strings. Pattern-constrained strings and enumerations hold no colon."""
    if not (UUID(doc.event_id) and TIMESTAMP(doc.submitted_at) and CONSORTIUM_CODE[doc.consortium_code]):
        raise GateError(_BAD_FORMAT)
    colons = doc.submitted_at.count(":") + doc.submitted_by.count(":")
    if isinstance(doc, Report):
        return colons + _report_colons(doc)
    if isinstance(doc, Project):
        return colons + _project_colons(doc)
    return colons + _consortium_colons(doc)


def _report_colons(doc: Report) -> int:
    if not (PROJECT_CODE[doc.project_code] and PERIOD[doc.period]):
        raise GateError(_BAD_FORMAT)
    progress = doc.progress
    colons = 11 + 2
    if progress.summary_ja is not UNSET:
        colons += 1 + progress.summary_ja.count(":")
    if progress.milestones is not UNSET:
        colons += 1 + sum(map(_milestone_colons, progress.milestones))
    return colons + _line_colons(doc)


def _line_colons(doc: Report) -> int:
    colons = 3 * len(doc.funding) + 2 * len(doc.kpis)
    for line in doc.funding:
        if line.pref_code is not UNSET:
            colons += 1
            if not PREF_CODE[line.pref_code]:
                raise GateError(_BAD_FORMAT)
    for kpi in doc.kpis:
        if not CODE[kpi.kpi_code]:
            raise GateError(_BAD_FORMAT)
        if kpi.pref_code is not UNSET:
            colons += 1
            if not PREF_CODE[kpi.pref_code]:
                raise GateError(_BAD_FORMAT)
    return colons


def _milestone_colons(milestone: Milestone) -> int:
    if not (CODE[milestone.milestone_code] and DATE[milestone.planned_date]):
        raise GateError(_BAD_FORMAT)
    colons = 4 + milestone.title_ja.count(":")
    if milestone.actual_date is not UNSET:
        colons += 1
        if milestone.actual_date is not None and not DATE[milestone.actual_date]:
            raise GateError(_BAD_FORMAT)
    return colons


def _project_colons(doc: Project) -> int:
    if not (
        PROJECT_CODE[doc.project_code]
        and POLICY_CODE[doc.policy_code]
        and all(PREF_CODE[area.pref_code] for area in doc.areas)
        and all(CODE[k.kpi_code] for k in doc.kpis)
    ):
        raise GateError(_BAD_FORMAT)
    colons = 15 + doc.title_ja.count(":") + 2 * len(doc.areas) + 9 * len(doc.kpis)
    if doc.title_en is not UNSET:
        colons += 1 + doc.title_en.count(":")
    return colons + sum(k.name_ja.count(":") + k.unit.count(":") + k.contributes_to.count(":") for k in doc.kpis)


def _consortium_colons(doc: Consortium) -> int:
    if not (DATE[doc.declared_on] and all(PREF_CODE[code] for code in doc.prefectures)):
        raise GateError(_BAD_FORMAT)
    colons = 10 + doc.name_ja.count(":") + 3 * len(doc.members)
    if doc.name_en is not UNSET:
        colons += 1 + doc.name_en.count(":")
    return colons + sum(m.name_ja.count(":") + m.role.count(":") for m in doc.members)


def _has_duplicate_key(raw: bytes, expected_colons: int) -> bool:
    """JSON parsers merge repeated keys silently; a repeated key adds a colon the decoded document
    does not account for. An escaped character could hide a colon, so ``\\u`` escapes, like any
    difference, fall back to an exact parse."""
    if raw.count(b":") == expected_colons and (b"\\" not in raw or b"\\u" not in raw):  # one byte is found faster
        return False
    from kouiki.contract.strict_json import DuplicateKeyError, loads

    try:
        loads(raw.decode("utf-8"))
    except DuplicateKeyError:
        return True
    return False


class GateError(ValueError):
    pass


_BAD_FORMAT = "a code, date or identifier does not match its required format"


def decode(raw: bytes, kind: str | None = None) -> Document:
    """Decode and type-check one document, or raise GateError (msgspec's message, with a path)."""
    kind = kind or kind_of_bytes(raw)
    try:
        doc: Document = _DECODERS[kind].decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise GateError(str(exc)) from exc
    except RecursionError as exc:
        raise GateError("JSON nested too deeply") from exc
    if _has_duplicate_key(raw, _expected_colons(doc)):
        raise GateError("duplicate key in a JSON object")
    return doc


def to_dict(doc: Document) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(doc)
    return result
