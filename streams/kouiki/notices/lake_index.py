"""What notices need of the raw lake, read once per lake file and kept while the file is unchanged.

Per file: which quarterly reports landed (project and period), which registrations landed, and every
dead-lettered row with what its document says about itself (read leniently: a dead letter may be
anything, even not JSON). Lake files are written once under their final, offset-named name, so a
file whose path, size and modification time are unchanged holds the same rows. Each file's summary
is kept in memory and under ``<data dir>/run/notices/lake/`` (MessagePack), so neither a second
page view nor a new process reads the Parquet again; the merged index is rebuilt only when the set
of files changed. A warm call costs a directory listing and a ``stat`` per file.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kouiki.config import Settings
from kouiki.contract.model import Consortium, GateError, Project, decode
from kouiki.contract.rules import ProjectEntry
from kouiki.lake.files import DEAD_LETTER, FILE_PATTERN, LANDED, topic_dir
from kouiki.messaging.topics import INGEST_TOPICS, REPORTS_TOPIC

log = logging.getLogger(__name__)

COLUMNS = ["_offset", "_value", "_status", "_ingested_at", "_error_class", "_error_message"]
SUMMARY_VERSION = 1  # bump when _FileSummary changes: older stored summaries are then read again
_KEPT_LAKES = 8  # indexes kept per process (one per data directory; tests use many)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class DeadLetterRow(msgspec.Struct, frozen=True):
    """A dead-lettered message and what its document names, each None when it does not say (or
    cannot be read)."""

    topic: str
    epoch: str
    partition: int
    offset: int
    ingested_us: int  # when it was landed, in microseconds since 1970 (UTC), as the lake stores it
    error_class: str | None
    error_message: str | None
    entity: str | None  # consortium, project or report (a document without ``entity`` is a report)
    consortium_code: str | None
    project_code: str | None
    period: str | None
    event_id: str | None

    @property
    def ingested_at(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.ingested_us)


@dataclass
class LakeIndex:
    """The whole lake, merged: latest project registrations, received reports, dead letters. Landing
    times are microseconds since 1970 (converting 80,000 Arrow timestamps to datetimes costs seconds)."""

    projects: dict[str, ProjectEntry] = field(default_factory=dict)  # latest registration by submitted_at
    reports: dict[tuple[str, str], int] = field(default_factory=dict)  # (project, period) -> last landed
    registrations: dict[str, int] = field(default_factory=dict)  # project or consortium code -> last landed
    dead_letters: list[DeadLetterRow] = field(default_factory=list)  # newest first


class _Registration(msgspec.Struct, frozen=True):
    submitted_at: datetime
    code: str  # the project's code, or the consortium's
    project: ProjectEntry | None  # None for a consortium registration
    ingested_us: int


class _FileSummary(msgspec.Struct):
    reports: list[tuple[str, str, int]] = msgspec.field(default_factory=list)  # project, period, landed
    registrations: list[_Registration] = msgspec.field(default_factory=list)
    dead_letters: list[DeadLetterRow] = msgspec.field(default_factory=list)


class _Stored(msgspec.Struct):
    """A file's summary on disk, with the version and file identity it was made for."""

    version: int
    file_key: tuple[int, int]
    summary: _FileSummary


class _ReportKeys(msgspec.Struct):
    """The two fields of a landed report that say what it reports on (the rest is skipped)."""

    project_code: str
    period: str


_REPORT_KEYS = msgspec.json.Decoder(_ReportKeys)
_STORED = msgspec.msgpack.Decoder(_Stored)
_FileKey = tuple[int, int]  # modification time (ns), size


@dataclass
class _LakeCache:
    files: dict[Path, tuple[_FileKey, _FileSummary]] = field(default_factory=dict)
    signature: tuple[tuple[Path, _FileKey], ...] | None = None
    index: LakeIndex = field(default_factory=LakeIndex)


_lakes: OrderedDict[Path, _LakeCache] = OrderedDict()
_lock = threading.Lock()


def lake_index(settings: Settings) -> LakeIndex:
    """The lake's index now (shared: do not modify it)."""
    signature = tuple(sorted(_list_files(settings.raw_dir).items()))
    with _lock:
        cache = _lakes.pop(settings.raw_dir, None) or _LakeCache()
        _lakes[settings.raw_dir] = cache
        while len(_lakes) > _KEPT_LAKES:
            _lakes.popitem(last=False)
        if cache.signature == signature:
            return cache.index
        files = {}
        for path, key in signature:
            known = cache.files.get(path)
            files[path] = known if known is not None and known[0] == key else (key, _summary(settings, path, key))
        cache.files, cache.signature = files, signature
        cache.index = _merge([summary for _, summary in files.values()])
        return cache.index


def forget() -> None:
    """Drop the in-memory indexes, as a new process starts (the stored summaries stay)."""
    with _lock:
        _lakes.clear()


def summaries_dir(settings: Settings) -> Path:
    return settings.run_dir / "notices" / "lake"


def _list_files(raw_dir: Path) -> dict[Path, _FileKey]:
    found = {}
    for topic in INGEST_TOPICS:
        folder = topic_dir(raw_dir, topic)
        if not folder.is_dir():
            continue
        for path in folder.glob("epoch=*/partition=*/*.parquet"):
            if FILE_PATTERN.match(path.name):
                try:
                    stat = path.stat()
                except FileNotFoundError:  # removed between listing and stat
                    continue
                found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def _summary(settings: Settings, path: Path, key: _FileKey) -> _FileSummary:
    """The stored summary of a lake file when it was made for this very file, else read the file and
    store its summary (best effort: a read-only data directory only costs the next process time)."""
    stored_path = summaries_dir(settings) / path.relative_to(settings.raw_dir).with_suffix(".msgpack")
    try:
        stored = _STORED.decode(stored_path.read_bytes())
        if stored.version == SUMMARY_VERSION and stored.file_key == key:
            return stored.summary
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        pass  # absent, unreadable or from another version: read the lake file
    summary = _read_file(path)
    try:
        stored_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = stored_path.with_name(f".{stored_path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(msgspec.msgpack.encode(_Stored(SUMMARY_VERSION, key, summary)))
        os.replace(tmp, stored_path)
    except OSError as exc:
        log.debug("notice summary of %s not stored: %s", path, exc)
    return summary


def _read_file(path: Path) -> _FileSummary:
    topic = path.parents[2].name
    epoch = path.parents[1].name.removeprefix("epoch=")
    partition = int(path.parent.name.removeprefix("partition="))
    table = pq.read_table(path, columns=COLUMNS)
    table = table.set_column(
        COLUMNS.index("_ingested_at"), "_ingested_at", table.column("_ingested_at").cast(pa.int64())
    )
    summary = _FileSummary()
    landed = table.filter(pc.equal(table.column("_status"), LANDED))
    add = _add_report if topic == REPORTS_TOPIC else _add_registration
    for value, ingested_us in zip(
        landed.column("_value").to_pylist(), landed.column("_ingested_at").to_pylist(), strict=True
    ):
        add(summary, value, ingested_us)
    for row in table.filter(pc.equal(table.column("_status"), DEAD_LETTER)).to_pylist():
        summary.dead_letters.append(
            DeadLetterRow(
                topic,
                epoch,
                partition,
                row["_offset"],
                row["_ingested_at"],
                row["_error_class"],
                row["_error_message"],
                *_named(row["_value"]),
            )
        )
    return summary


def _add_report(summary: _FileSummary, value: bytes, ingested_us: int) -> None:
    try:
        keys = _REPORT_KEYS.decode(value)
    except (msgspec.DecodeError, msgspec.ValidationError):  # not possible for a landed row; never fatal
        return
    summary.reports.append((keys.project_code, keys.period, ingested_us))


def _add_registration(summary: _FileSummary, value: bytes, ingested_us: int) -> None:
    try:
        doc = decode(value)
    except GateError:
        return
    submitted_at = datetime.fromisoformat(doc.submitted_at)
    if isinstance(doc, Project):
        entry = ProjectEntry(doc.consortium_code, doc.start_fy, doc.end_fy, frozenset(k.kpi_code for k in doc.kpis))
        summary.registrations.append(_Registration(submitted_at, doc.project_code, entry, ingested_us))
    elif isinstance(doc, Consortium):
        summary.registrations.append(_Registration(submitted_at, doc.consortium_code, None, ingested_us))


def _named(value: bytes | None) -> tuple[str | None, str | None, str | None, str | None, str | None]:
    """``entity, consortium_code, project_code, period, event_id`` of a dead-lettered document, each
    None unless it is a string there; all None for a value that is not a JSON object."""
    try:
        doc: Any = msgspec.json.decode(value) if value else None
    except (msgspec.DecodeError, RecursionError):
        return None, None, None, None, None
    if not isinstance(doc, dict):
        return None, None, None, None, None

    def text(name: str) -> str | None:
        found = doc.get(name)
        return found[:200] if isinstance(found, str) else None

    return text("entity") or "report", text("consortium_code"), text("project_code"), text("period"), text("event_id")


def _merge(summaries: list[_FileSummary]) -> LakeIndex:
    index = LakeIndex()
    reports = index.reports
    registrations: list[_Registration] = []
    for summary in summaries:
        for project_code, period, at in summary.reports:
            key = (project_code, period)
            if reports.get(key, -1) < at:
                reports[key] = at
        registrations.extend(summary.registrations)
        index.dead_letters.extend(summary.dead_letters)
    # As the lander's registry: a later registration (by submitted_at) replaces an earlier one.
    for registration in sorted(registrations, key=lambda r: r.submitted_at):
        if registration.project is not None:
            index.projects[registration.code] = registration.project
        at = registration.ingested_us
        index.registrations[registration.code] = max(at, index.registrations.get(registration.code, at))
    index.dead_letters.sort(key=lambda d: (d.ingested_us, d.topic, d.epoch, d.partition, d.offset), reverse=True)
    return index
