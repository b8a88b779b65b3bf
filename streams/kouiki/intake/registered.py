"""What the report template is pre-filled with: a consortium's registered projects running in the
period (the latest valid registration of each), the milestones of each project's latest landed
report, and the next version number for the period. ``prefill_of`` works on decoded documents;
``prefill`` gathers them from the lake (and the registry topic when the broker answers, as
``submit.known_registry`` does)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow.parquet as pq

from kouiki.config import Settings
from kouiki.contract.model import Document, GateError, Milestone, Project, Report, decode
from kouiki.lake.files import LANDED, topic_dir
from kouiki.messaging import clients
from kouiki.messaging.registry_topic import registry_messages
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC


@dataclass(frozen=True)
class Prefill:
    consortium_code: str
    period: str
    projects: list[Project] = field(default_factory=list)  # by project code
    milestones: dict[str, list[Milestone]] = field(default_factory=dict)  # project code -> latest known
    versions: dict[str, int] = field(default_factory=dict)  # project code -> the version to send next


def decoded(values: Iterable[bytes]) -> list[Document]:
    """The documents among serialised values that pass the contract's gate."""
    docs: list[Document] = []
    for value in values:
        try:
            docs.append(decode(value))
        except GateError:
            continue
    return docs


def prefill_of(
    consortium_code: str, period: str, registrations: Iterable[Document], reports: Iterable[Document]
) -> Prefill:
    latest: dict[str, Project] = {}
    for doc in sorted(registrations, key=lambda d: datetime.fromisoformat(d.submitted_at)):
        if isinstance(doc, Project):
            latest[doc.project_code] = doc
    fiscal_year = int(period[2:6])
    projects = sorted(  # only the projects running in the period: the contract refuses a report outside
        (p for p in latest.values() if p.consortium_code == consortium_code and p.start_fy <= fiscal_year <= p.end_fy),
        key=lambda p: p.project_code,
    )
    codes = {p.project_code for p in projects}
    mine = [r for r in reports if isinstance(r, Report) and r.project_code in codes and r.period <= period]
    mine.sort(key=lambda r: (r.period, r.version, datetime.fromisoformat(r.submitted_at)))
    prefill = Prefill(consortium_code, period, projects)
    for report in mine:  # later ones replace earlier ones
        if isinstance(report.progress.milestones, list):
            prefill.milestones[report.project_code] = report.progress.milestones
        if report.period == period:
            prefill.versions[report.project_code] = report.version + 1
    return prefill


def prefill(settings: Settings, consortium_code: str, period: str) -> Prefill:
    registrations = decoded(landed_values(settings, REGISTRY_TOPIC, {consortium_code}))
    if clients.broker_answers(settings):
        registrations.extend(decoded(_topic_values(settings, consortium_code)))  # none if unreadable
    codes = {d.project_code for d in registrations if isinstance(d, Project)}
    reports = decoded(landed_values(settings, REPORTS_TOPIC, codes)) if codes else []
    return prefill_of(consortium_code, period, registrations, reports)


def landed_values(settings: Settings, topic: str, keys: Collection[str]) -> list[bytes]:
    """The landed values under ``keys`` (registrations are keyed by consortium, reports by project)."""
    folder = topic_dir(settings.raw_dir, topic)
    values: list[bytes] = []
    for path in sorted(folder.glob("epoch=*/partition=*/*.parquet")) if folder.is_dir() else []:
        table = pq.read_table(
            path, columns=["_value"], filters=[("_key", "in", sorted(keys)), ("_status", "=", LANDED)]
        )
        values.extend(table.column("_value").to_pylist())
    return values


def _topic_values(settings: Settings, consortium_code: str) -> list[bytes]:
    key = consortium_code.encode()
    return [value for message_key, value in registry_messages(settings, 15) if message_key == key]
