"""``kouiki submit``: validate report files and produce the valid documents to Kafka.

Every problem in every file is reported at once, each located by file, record, line and JSON path.
An invalid document is never sent; with ``all_or_nothing`` nothing at all is sent if any document
is invalid. Each sent document gets a receipt (event_id, topic, partition, offset) once the broker
has acknowledged it with acks=all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kouiki import kafka_io
from kouiki.config import Settings
from kouiki.contract import reader
from kouiki.contract.validate import Violation, key_for, kind_of, topic_for, validate


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
    topic: str
    key: bytes
    value: bytes


@dataclass
class Outcome:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    prepared: list[Prepared] = field(default_factory=list)


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def check(paths: Iterable[Path], settings: Settings) -> Outcome:
    """Read and validate every document; collect what may be sent and every problem found."""
    outcome = Outcome()
    for path in reader.expand(paths):
        if not path.exists():
            outcome.problems.append(Problem(str(path), Violation("$", "no such file")))
            continue
        for record in reader.read_records(path):
            outcome.checked += 1
            _check_record(record, settings, outcome)
    return outcome


def _check_record(record: reader.Record, settings: Settings, outcome: Outcome) -> None:
    if record.error is not None:
        outcome.problems.append(Problem(record.where, Violation("$", record.error)))
        return
    violations = validate(record.doc)
    if not violations:
        value = encode(record.doc)
        if len(value) > settings.max_message_bytes:
            violations = [Violation("$", f"document is {len(value):,} bytes; the limit is "
                                         f"{settings.max_message_bytes:,} bytes")]
        else:
            kind = kind_of(record.doc)
            outcome.prepared.append(Prepared(record, topic_for(kind), key_for(record.doc).encode(), value))
    outcome.problems.extend(Problem(record.where, v) for v in violations)


def send(outcome: Outcome, settings: Settings, timeout: float = 30.0) -> None:
    """Produce the prepared documents and wait for every acknowledgement."""
    if not outcome.prepared:
        return
    producer = kafka_io.producer(settings)
    try:
        futures = [(p, producer.send(p.topic, key=p.key, value=p.value,
                                     headers=[("content-type", b"application/json"),
                                              ("kouiki.contract", b"v1")]))
                   for p in outcome.prepared]
        producer.flush(timeout=timeout)
        for prepared, future in futures:
            meta = future.get(timeout=timeout)
            outcome.receipts.append(Receipt(prepared.record.doc["event_id"], meta.topic, meta.partition,
                                            meta.offset, str(prepared.record.file), prepared.record.index))
    finally:
        producer.close(timeout=timeout)


def submit(paths: Iterable[Path], settings: Settings, *, dry_run: bool = False,
           all_or_nothing: bool = False) -> Outcome:
    outcome = check(paths, settings)
    if dry_run or (all_or_nothing and outcome.problems):
        return outcome
    send(outcome, settings)
    return outcome
