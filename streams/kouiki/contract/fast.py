"""The contract's JSON Schemas compiled into msgspec Structs: a C-speed gate for the hot paths
(submit and the lander), about 100x faster than walking the JSON Schema.

The JSON Schema files stay the contract and the source of located, human-readable errors: a document
the gate rejects is re-checked against the schema to say exactly what is wrong. A differential test
(tests/unit/test_contract_fast.py) holds the two to the same verdicts on the sample data, the
bad-input corpus and thousands of random mutations.

The gate is stricter than the schema in one respect, on purpose: an integer field (yen, years,
versions) refuses a number written with a fraction part such as 2.0, which JSON Schema counts as an
integer.

Every optional field defaults to UNSET so that a re-encoded document carries exactly the keys that
were present; comparing the two then detects duplicate keys, which JSON parsers silently merge.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

PrefCode = Annotated[str, Meta(pattern="^(0[1-9]|[1-3][0-9]|4[0-7])$")]
ConsortiumCode = Annotated[str, Meta(pattern="^KR-[A-Z0-9]{2,8}-[0-9]{2}$")]
ProjectCode = Annotated[str, Meta(pattern="^KR-[A-Z0-9]{2,8}-[0-9]{2}-P[0-9]{2}$")]
Code = Annotated[str, Meta(pattern="^[A-Z0-9][A-Z0-9_-]{0,39}$")]
Uuid = Annotated[str, Meta(pattern="^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
Timestamp = Annotated[str, Meta(
    pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")]
Date = Annotated[str, Meta(pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
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
    theme: Literal["TOURISM", "INDUSTRY", "GX", "DX", "TALENT", "TRANSPORT", "INFRA", "MEDICAL",
                   "FOOD_EXPORT", "LOGISTICS", "DISASTER", "OTHER"]
    policy_code: Annotated[str, Meta(pattern="^(G[1-3R]|P[1-5])(\\.[0-9A-Za-z]+)*$")]
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
    source_type: Literal["national_grant", "prefecture", "municipality", "private", "corporate_furusato",
                         "loan", "other"]
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
    period: Annotated[str, Meta(pattern="^FY20[0-9]{2}(Q[1-4]|H[12])?$")]
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
_ENCODER = msgspec.json.Encoder()


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


def _has_duplicate_key(raw: bytes, doc: Document) -> bool:
    """Every key is followed by a colon, and string contents re-encode unchanged, so the input and
    the re-encoded document hold the same number of colons unless a key was merged. Escaped
    characters (which could hide a colon) or any difference fall back to an exact parse."""
    if raw.count(b":") == _ENCODER.encode(doc).count(b":") and b"\\u" not in raw:
        return False
    from kouiki.contract.reader import DuplicateKeyError, loads

    try:
        loads(raw.decode("utf-8"))
    except DuplicateKeyError:
        return True
    return False


class GateError(ValueError):
    pass


def decode(raw: bytes, kind: str | None = None) -> Document:
    """Decode and type-check one document, or raise GateError (msgspec's message, with a path)."""
    kind = kind or kind_of_bytes(raw)
    try:
        doc: Document = _DECODERS[kind].decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise GateError(str(exc)) from exc
    except RecursionError as exc:
        raise GateError("JSON nested too deeply") from exc
    if _has_duplicate_key(raw, doc):
        raise GateError("duplicate key in a JSON object")
    return doc


def to_dict(doc: Document) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(doc)
    return result
