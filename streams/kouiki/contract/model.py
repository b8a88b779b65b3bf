"""The contract's JSON Schemas mirrored as msgspec Structs: a C-speed gate for the hot paths
(submit and the lander), about 100x faster than walking the JSON Schema.

The Structs are written out by hand, so that readers and mypy see them; a structural test
(tests/unit/test_contract_schema_parity.py) holds every enum, pattern, required and optional field
to the schemas, both ways. The JSON Schema files stay the contract and the source of located,
human-readable errors: a document the gate rejects is re-checked against the schema to say exactly
what is wrong. A differential test (tests/unit/test_contract_model.py) holds the two to the same
verdicts on the sample data, the bad-input corpus and thousands of random mutations.

The gate is stricter than the schema in one respect, on purpose: an integer field (yen, years,
versions) refuses a number written with a fraction part such as 2.0, which JSON Schema counts as an
integer.

Every optional field defaults to UNSET, so the decoded document tells exactly which keys were
present; ``duplicate_keys`` counts them against the colons in the text to detect repeated keys,
which JSON parsers silently merge.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType


class Pattern:
    """A JSON Schema ``pattern`` (``regex``), matched the way jsonschema does it (``re.search``).

    Patterns are checked after decoding (``patterns_hold``) instead of by msgspec, which would run a
    regex for every field of every document, although codes repeat across reports (47 prefectures, a
    few hundred projects, a few dozen KPI codes): ``matches(value)`` is a dictionary lookup after the
    first time. Values that never repeat (event ids, timestamps) are not remembered: ``matches`` is
    then the regex's own search, for required fields only."""

    def __init__(self, regex: str, *, remember: bool = True) -> None:
        self.regex = regex
        search = re.compile(regex).search
        self.matches: Callable[[Any], object] = _Memo(search).__getitem__ if remember else search


class _Memo(dict[Any, bool]):
    """Whether each value matches. An absent optional value (UNSET, or None where the type allows
    it) has nothing to match: both are entered as matching from the start."""

    def __init__(self, search: Callable[[str], object]) -> None:
        super().__init__({UNSET: True, None: True})
        self._search = search

    def __missing__(self, value: str) -> bool:
        valid = self._search(value) is not None
        if len(self) < 100_000:
            self[value] = valid
        return valid


PREF_CODE = Pattern("^(0[1-9]|[1-3][0-9]|4[0-7])$")
CONSORTIUM_CODE = Pattern("^KR-[A-Z0-9]{2,8}-[0-9]{2}$")
PROJECT_CODE = Pattern("^KR-[A-Z0-9]{2,8}-[0-9]{2}-P[0-9]{2}$")
CODE = Pattern("^[A-Z0-9][A-Z0-9_-]{0,39}$")
POLICY_CODE = Pattern("^(G[1-3R]|P[1-5])(\\.[0-9A-Za-z]+)*$")
PERIOD = Pattern("^FY20[0-9]{2}(Q[1-4]|H[12])?$")
DATE = Pattern("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Event ids and timestamps never repeat: matched every time.
UUID = Pattern("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", remember=False)
TIMESTAMP = Pattern(
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$", remember=False
)

# Strings with a pattern carry it in their annotation (msgspec ignores metadata it does not know);
# ``patterns_hold`` checks them after decoding. tests/unit/test_contract_schema_parity.py holds these
# and the Literals to the JSON Schemas.
PrefCode = Annotated[str, PREF_CODE]
ConsortiumCode = Annotated[str, CONSORTIUM_CODE]
ProjectCode = Annotated[str, PROJECT_CODE]
Code = Annotated[str, CODE]
PolicyCode = Annotated[str, POLICY_CODE]
Period = Annotated[str, PERIOD]
Uuid = Annotated[str, UUID]
Timestamp = Annotated[str, TIMESTAMP]
Date = Annotated[str, DATE]
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
    policy_code: PolicyCode
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
    period: Period
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


_uuid, _timestamp, _date = UUID.matches, TIMESTAMP.matches, DATE.matches
_pref, _consortium, _project = PREF_CODE.matches, CONSORTIUM_CODE.matches, PROJECT_CODE.matches
_code, _policy, _period = CODE.matches, POLICY_CODE.matches, PERIOD.matches


def patterns_hold(doc: Document) -> bool:
    """Whether every pattern-constrained string of a decoded document matches the pattern its
    annotation names (tests/unit/test_contract_schema_parity.py breaks each one in turn to show
    it is checked here). Absent optional values match (see ``_Memo``)."""
    if not (_uuid(doc.event_id) and _timestamp(doc.submitted_at) and _consortium(doc.consortium_code)):
        return False
    if isinstance(doc, Report):
        return _report_patterns_hold(doc)
    if isinstance(doc, Project):
        return _project_patterns_hold(doc)
    return bool(_date(doc.declared_on)) and all(map(_pref, doc.prefectures))


def _report_patterns_hold(doc: Report) -> bool:
    if not (_project(doc.project_code) and _period(doc.period)):
        return False
    for line in doc.funding:
        if not _pref(line.pref_code):
            return False
    for kpi in doc.kpis:
        if not (_code(kpi.kpi_code) and _pref(kpi.pref_code)):
            return False
    if doc.progress.milestones is not UNSET:
        for milestone in doc.progress.milestones:
            if not (_code(milestone.milestone_code) and _date(milestone.planned_date) and _date(milestone.actual_date)):
                return False
    return True


def _project_patterns_hold(doc: Project) -> bool:
    if not (_project(doc.project_code) and _policy(doc.policy_code)):
        return False
    for area in doc.areas:
        if not _pref(area.pref_code):
            return False
    for kpi in doc.kpis:
        if not _code(kpi.kpi_code):
            return False
    return True


class GateError(ValueError):
    pass


_BAD_FORMAT = "a code, date or identifier does not match its required format"


# duplicate_keys derives its colon counts from the Structs above, so it is imported after them.
from kouiki.contract import duplicate_keys  # noqa: E402


def decode(raw: bytes, kind: str | None = None) -> Document:
    """Decode and type-check one document, or raise GateError (msgspec's message, with a path)."""
    kind = kind or kind_of_bytes(raw)
    try:
        doc: Document = _DECODERS[kind].decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise GateError(str(exc)) from exc
    except RecursionError as exc:
        raise GateError("JSON nested too deeply") from exc
    if not patterns_hold(doc):
        raise GateError(_BAD_FORMAT)
    if duplicate_keys.has_duplicate_key(raw, doc):
        raise GateError("duplicate key in a JSON object")
    return doc


def to_dict(doc: Document) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(doc)
    return result
