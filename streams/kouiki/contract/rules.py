"""The contract's rules that a JSON Schema cannot express, checked on gated documents.

Local rules need only the document; registry rules need what is known of the registry (the
consortia and projects registered so far), which the caller supplies.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter

from msgspec import UNSET

from kouiki.contract.messages import Violation
from kouiki.contract.model import Consortium, Document, GateError, Project, Report, decode

CLOCK_SKEW_S = 300
SINGLE_PREFECTURE_REGIONS = frozenset({"01", "47"})  # Hokkaido and Okinawa count as regions on their own


@dataclass(frozen=True)
class ProjectEntry:
    consortium_code: str
    start_fy: int
    end_fy: int
    kpi_codes: frozenset[str]


@dataclass
class Registry:
    """Consortia and projects known so far; later registrations replace earlier ones."""

    consortia: dict[str, frozenset[str]] = field(default_factory=dict)  # code -> prefectures
    projects: dict[str, ProjectEntry] = field(default_factory=dict)

    def add(self, doc: Document) -> None:
        if isinstance(doc, Consortium):
            self.consortia[doc.consortium_code] = frozenset(doc.prefectures)
        elif isinstance(doc, Project):
            self.projects[doc.project_code] = ProjectEntry(
                doc.consortium_code, doc.start_fy, doc.end_fy, frozenset(k.kpi_code for k in doc.kpis)
            )

    def add_valid_in_order(self, values: Iterable[bytes]) -> None:
        """Add the registrations among serialised documents that pass the gate, oldest
        ``submitted_at`` first, so a later registration replaces an earlier one."""
        docs = []
        for value in values:
            try:
                docs.append(decode(value))
            except GateError:
                continue
        for doc in sorted(docs, key=lambda d: datetime.fromisoformat(d.submitted_at)):
            self.add(doc)


def check_local(doc: Document) -> list[Violation]:
    return list(_local(doc))


def check_registry(doc: Document, registry: Registry) -> list[Violation]:
    return list(_against_registry(doc, registry))


def _v(path: str, en: str, ja: str) -> Violation:
    return Violation(path, en, ja)


def _local(doc: Document) -> Iterator[Violation]:
    yield from _timestamp(doc.submitted_at)
    if isinstance(doc, Consortium):
        if not _is_date(doc.declared_on):
            yield _not_a_date("$.declared_on", doc.declared_on)
        if len(doc.prefectures) < 2 and not set(doc.prefectures) <= SINGLE_PREFECTURE_REGIONS:
            yield _v(
                "$.prefectures",
                "a consortium needs at least two prefectures (one is allowed only for 01 Hokkaido or 47 Okinawa)",
                "連携体には2つ以上の都道府県が必要です（単独は北海道01・沖縄47のみ）",
            )
        if len(set(doc.prefectures)) != len(doc.prefectures):
            yield _v("$.prefectures", "a prefecture is listed twice", "同じ都道府県が重複しています")
    elif isinstance(doc, Project):
        yield from _project(doc)
    else:
        for i, milestone in enumerate(doc.progress.milestones or ()):
            if not _is_date(milestone.planned_date):
                yield _not_a_date(f"$.progress.milestones[{i}].planned_date", milestone.planned_date)
            if isinstance(milestone.actual_date, str) and not _is_date(milestone.actual_date):
                yield _not_a_date(f"$.progress.milestones[{i}].actual_date", milestone.actual_date)


def _timestamp(value: str) -> Iterator[Violation]:
    try:
        submitted = datetime.fromisoformat(value)
    except ValueError:
        yield _v("$.submitted_at", f"{value!r} is not a valid timestamp", "日時として正しくありません")
        return
    if submitted.timestamp() > time.time() + CLOCK_SKEW_S:  # epoch seconds compare faster than aware datetimes
        yield _v("$.submitted_at", f"{value} is in the future", "提出日時が未来になっています")


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _not_a_date(path: str, value: str) -> Violation:
    return _v(path, f"{value!r} is not a calendar date", "存在しない日付です")


def _project(doc: Project) -> Iterator[Violation]:
    if doc.end_fy < doc.start_fy:
        yield _v("$.end_fy", f"end_fy {doc.end_fy} is before start_fy {doc.start_fy}", "終了年度が開始年度より前です")
    total = math.fsum(area.share for area in doc.areas)
    if abs(total - 1.0) > 1e-9:
        yield _v(
            "$.areas",
            f"area shares must sum to exactly 1, they sum to {total:.6g}",
            f"対象地域の按分比率の合計が1になっていません（合計 {total:.6g}）",
        )
    seen: set[str] = set()
    for i, area in enumerate(doc.areas):
        if area.pref_code in seen:
            yield _v(
                f"$.areas[{i}].pref_code",
                f"prefecture {area.pref_code} is listed twice",
                "同じ都道府県が重複しています",
            )
        seen.add(area.pref_code)
    codes = [k.kpi_code for k in doc.kpis]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            yield _v(f"$.kpis[{i}].kpi_code", f"KPI {code} is registered twice", "同じKPIコードが重複しています")
    if not doc.project_code.startswith(doc.consortium_code + "-"):
        yield _v(
            "$.project_code",
            "project_code must start with its consortium_code",
            "事業コードは連携体コードで始まる必要があります",
        )


def _against_registry(doc: Document, registry: Registry) -> Iterator[Violation]:
    if isinstance(doc, Consortium):
        return
    prefectures = registry.consortia.get(doc.consortium_code)
    if prefectures is None:
        yield _v(
            "$.consortium_code",
            f"consortium {doc.consortium_code} is not registered",
            f"連携体 {doc.consortium_code} は登録されていません",
        )
        return
    if isinstance(doc, Project):
        registered = registry.projects.get(doc.project_code)
        if registered is not None and registered.consortium_code != doc.consortium_code:
            yield _v(
                "$.consortium_code",
                f"project {doc.project_code} belongs to {registered.consortium_code}: "
                "a registration cannot move it to another consortium",
                f"事業 {doc.project_code} は {registered.consortium_code} の事業です"
                "（登録で別の連携体に移すことはできません）",
            )
        for i, area in enumerate(doc.areas):
            if area.pref_code not in prefectures:
                yield _outside(f"$.areas[{i}].pref_code", area.pref_code)
        return
    yield from _report_against_registry(doc, registry, prefectures)


def _outside(path: str, pref_code: str) -> Violation:
    return _v(
        path,
        f"prefecture {pref_code} is not one of the consortium's prefectures",
        f"都道府県 {pref_code} は連携体の構成都道府県ではありません",
    )


def _report_against_registry(doc: Report, registry: Registry, prefectures: frozenset[str]) -> Iterator[Violation]:
    project = registry.projects.get(doc.project_code)
    if project is None:
        yield _v(
            "$.project_code",
            f"project {doc.project_code} is not registered",
            f"事業 {doc.project_code} は登録されていません",
        )
        return
    if project.consortium_code != doc.consortium_code:
        yield _v(
            "$.consortium_code",
            f"project {doc.project_code} belongs to {project.consortium_code}",
            f"事業 {doc.project_code} は {project.consortium_code} の事業です",
        )
    fiscal_year = int(doc.period[2:6])
    if not project.start_fy <= fiscal_year <= project.end_fy:
        yield _v(
            "$.period",
            f"{doc.period} is outside the project's years FY{project.start_fy}-FY{project.end_fy}",
            f"報告期間 {doc.period} が事業期間（{project.start_fy}〜{project.end_fy}年度）の外です",
        )
    used = {*map(_pref_code, doc.funding), *map(_pref_code, doc.kpis)}
    used.discard(UNSET)
    if used <= prefectures and set(map(_kpi_code, doc.kpis)) <= project.kpi_codes:
        return  # the common case, decided without a loop in Python; the loops below say where
    for i, kpi in enumerate(doc.kpis):
        if kpi.kpi_code not in project.kpi_codes:
            yield _v(
                f"$.kpis[{i}].kpi_code",
                f"KPI {kpi.kpi_code} is not registered on {doc.project_code}",
                f"KPI {kpi.kpi_code} はこの事業に登録されていません",
            )
        if isinstance(kpi.pref_code, str) and kpi.pref_code not in prefectures:
            yield _outside(f"$.kpis[{i}].pref_code", kpi.pref_code)
    for i, line in enumerate(doc.funding):
        if isinstance(line.pref_code, str) and line.pref_code not in prefectures:
            yield _outside(f"$.funding[{i}].pref_code", line.pref_code)


_pref_code = attrgetter("pref_code")
_kpi_code = attrgetter("kpi_code")
