"""``kouiki submit``: validate report files and produce the valid documents to Kafka.

Every problem in every file is reported at once, each located by file, record, line and JSON path,
in English and Japanese. An invalid document is never sent; with ``all_or_nothing`` nothing at all
is sent if any document is invalid. Registrations are checked first and count as registered for the
reports in the same submission; reports are also checked against the registrations already on the
registry topic and in the local lake. Each sent document gets a receipt (event_id, topic, partition,
offset) once the broker has acknowledged it with acks=all.
"""

from __future__ import annotations

import getpass
import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka.errors import KafkaError

from kouiki import kafka_io, registry_view
from kouiki.config import REGISTRY_TOPIC, Settings
from kouiki.contract import csv_template, reader
from kouiki.contract.batch import DocumentVerdict, check_all, check_in_parallel, verdict_of
from kouiki.contract.messages import Violation
from kouiki.contract.rules import Registry
from kouiki.contract.validate import check_bytes, topic_for

Progress = Callable[[int, int], None]
PARALLEL_FROM = 2000  # documents; below this a process pool costs more than it saves


@dataclass(frozen=True)
class Problem:
    where: str
    violation: Violation

    def __str__(self) -> str:
        return f"{self.where}: {self.violation}"


@dataclass(frozen=True)
class Receipt:
    event_id: str
    topic: str
    partition: int
    offset: int
    file: str
    record: int


@dataclass(frozen=True)
class Prepared:
    record: reader.Record
    event_id: str
    topic: str
    key: bytes


@dataclass
class Outcome:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    prepared: list[Prepared] = field(default_factory=list)
    registry_source: str = ""


def default_submitter() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def read_all(paths: Iterable[Path], submitted_by: str) -> tuple[list[reader.Record], list[Problem]]:
    records: list[reader.Record] = []
    problems: list[Problem] = []
    for path in reader.expand(paths):
        if not path.is_file():
            problems.append(Problem(str(path), Violation("$", "no such file", "ファイルがありません")))
        elif path.suffix in reader.CSV_SUFFIXES:
            records.extend(csv_template.read_csv(path, submitted_by))
        else:
            records.extend(reader.read_records(path))
    return records, problems


def known_registry(settings: Settings) -> tuple[Registry, str]:
    """Registrations in the local lake and on the registry topic (when the broker answers)."""
    registry = registry_view.from_lake(settings)
    try:
        registry_view.from_topic(settings, registry, timeout=15)
        return registry, "lake and broker"
    except KafkaError:
        return registry, "lake only (broker not reachable)"


def check(paths: Iterable[Path], settings: Settings, registry: Registry | None = None,
          submitted_by: str | None = None) -> Outcome:
    """Read and validate every document; collect what may be sent and every problem found."""
    records, problems = read_all(paths, submitted_by or default_submitter())
    outcome = Outcome(problems=problems)
    if registry is None:
        registry, outcome.registry_source = known_registry(settings)
    outcome.checked = len(records)
    readable = [r for r in records if _readable(r, settings, outcome)]
    # registrations first and in order, so reports in the same submission may refer to them
    registrations = [r for r in readable if b'"entity"' in (r.raw or b"")]
    for record in registrations:
        checked = check_bytes(record.raw or b"", registry)
        if checked.doc is not None and not checked.violations:
            registry.add(checked.doc)
        _collect(record, verdict_of(checked), outcome)
    reports = [r for r in readable if b'"entity"' not in (r.raw or b"")]
    raws = [r.raw or b"" for r in reports]
    verdicts = check_in_parallel(raws, registry) if len(raws) >= PARALLEL_FROM else check_all(raws, registry)
    for record, verdict in zip(reports, verdicts, strict=True):
        _collect(record, verdict, outcome)
    outcome.prepared.sort(key=lambda p: (str(p.record.file), p.record.index))
    outcome.problems.sort(key=lambda p: p.where)
    return outcome


def _readable(record: reader.Record, settings: Settings, outcome: Outcome) -> bool:
    if record.raw is None:
        outcome.problems.append(Problem(record.where, Violation("$", record.error or "", record.error_ja or "")))
        return False
    if len(record.raw) > settings.max_message_bytes:
        outcome.problems.append(Problem(record.where, Violation(
            "$", f"document is {len(record.raw):,} bytes; the limit is {settings.max_message_bytes:,} bytes",
            f"文書が大きすぎます（上限 {settings.max_message_bytes:,} バイト）")))
        return False
    return True


def _collect(record: reader.Record, verdict: DocumentVerdict, outcome: Outcome) -> None:
    if verdict.violations or verdict.key is None or verdict.event_id is None:
        outcome.problems.extend(Problem(record.where, v) for v in verdict.violations)
        return
    outcome.prepared.append(Prepared(record, verdict.event_id, topic_for(verdict.kind), verdict.key.encode()))


def send(outcome: Outcome, settings: Settings, progress: Progress | None = None, timeout: float = 60.0) -> None:
    """Produce the prepared documents unchanged and wait for every acknowledgement."""
    if not outcome.prepared:
        return
    producer = kafka_io.producer(settings)
    # Registrations are acknowledged before any report is sent, so a report can never be in the log
    # ahead of the registration it refers to (the lander relies on this).
    ordered = sorted(outcome.prepared, key=lambda p: p.topic != REGISTRY_TOPIC)
    total = len(ordered)
    step = max(1000, total // 10)
    try:
        futures: list[Any] = []
        for i, prepared in enumerate(ordered, start=1):
            if prepared.topic != REGISTRY_TOPIC and i > 1 and ordered[i - 2].topic == REGISTRY_TOPIC:
                producer.flush(timeout=timeout)
                for future in futures:
                    future.get(timeout=timeout)
            futures.append(producer.send(prepared.topic, key=prepared.key, value=prepared.record.raw))
            if progress and (i % step == 0 or i == total):
                progress(i, total)
        producer.flush(timeout=timeout)
        for prepared, future in zip(ordered, futures, strict=True):
            meta = future.value if future.succeeded() else future.get(timeout=timeout)  # get() raises the error
            outcome.receipts.append(Receipt(prepared.event_id, meta.topic, meta.partition, meta.offset,
                                            str(prepared.record.file), prepared.record.index))
    finally:
        producer.close(timeout=timeout)


def print_progress(done: int, total: int) -> None:
    print(f"sending {done:,} / {total:,} ({done * 100 // total}%)", file=sys.stderr, flush=True)


def submit(paths: Iterable[Path], settings: Settings, *, dry_run: bool = False, all_or_nothing: bool = False,
           submitted_by: str | None = None, progress: Progress | None = None) -> Outcome:
    outcome = check(paths, settings, submitted_by=submitted_by)
    if dry_run or (all_or_nothing and outcome.problems):
        return outcome
    send(outcome, settings, progress)
    return outcome
