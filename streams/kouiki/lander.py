"""``kouiki ingest``: land what is on the topics now into the raw lake, exactly once.

Per partition the lander resumes one past the highest offset already in the lake, reads up to the
high watermark seen in the fetched data (the local broker's end-offset lookups are unreliable),
checks each message, and writes contiguous batches as offset-named Parquet files. A message that
fails the checks is produced unchanged to the dead-letter topic with Kafka Connect style error
headers *before* its batch file is renamed into place, and it is kept in the batch file with
``_status = 'dead_letter'``, so consumed = landed + dead-lettered holds per partition.

The registry topic is landed first, so reports are checked against the consortia and projects
registered before them (in the lake or earlier in the same run).
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import TopicPartition
from kafka.errors import OffsetOutOfRangeError

from kouiki import kafka_io, lake, registry_view
from kouiki.config import DEADLETTER_TOPIC, INGEST_TOPICS, REGISTRY_TOPIC, Settings
from kouiki.contract.batch import ParallelChecker
from kouiki.contract.rules import Registry
from kouiki.contract.validate import check_bytes, topic_for

log = logging.getLogger(__name__)

LANDED = "landed"
DEAD_LETTER = "dead_letter"


class LogResetError(RuntimeError):
    """The broker's log is behind what was landed for the same topic id: refuse to guess."""


@dataclass(frozen=True)
class Verdict:
    status: str
    error_class: str | None = None
    error_message: str | None = None


@dataclass
class LandingReport:
    """Counts per (topic, epoch, partition): consumed, landed, dead-lettered, files written."""

    counts: dict[tuple[str, str, int], dict[str, int]] = field(default_factory=dict)

    def add(self, topic: str, epoch: str, partition: int, statuses: list[str]) -> None:
        entry = self.counts.setdefault((topic, epoch, partition),
                                       {"consumed": 0, "landed": 0, "dead_lettered": 0, "files": 0})
        entry["consumed"] += len(statuses)
        dead = statuses.count(DEAD_LETTER)
        entry["landed"] += len(statuses) - dead
        entry["dead_lettered"] += dead
        entry["files"] += 1

    @property
    def consumed(self) -> int:
        return sum(c["consumed"] for c in self.counts.values())


def classify(topic: str, value: bytes | None, max_bytes: int, registry: Registry | None = None) -> Verdict:
    """Decide whether one message may be landed; a valid registration is added to ``registry``."""
    if value is None:
        return Verdict(DEAD_LETTER, "EmptyMessage", "message has no value")
    if len(value) > max_bytes:
        return Verdict(DEAD_LETTER, "MessageTooLarge", f"{len(value):,} bytes exceeds the {max_bytes:,} limit")
    checked = check_bytes(value, registry)
    if topic_for(checked.kind) != topic:
        return Verdict(DEAD_LETTER, "WrongTopic", f"a {checked.kind} document does not belong on {topic}")
    if checked.violations:
        return Verdict(DEAD_LETTER, checked.error_class, "; ".join(map(str, checked.violations))[:2000])
    if registry is not None and topic == REGISTRY_TOPIC and checked.doc is not None:
        registry.add(checked.doc)
    return Verdict(LANDED)


def _dead_letter_headers(rec: Any, verdict: Verdict) -> list[tuple[str, bytes]]:
    return [
        ("__connect.errors.topic", rec.topic.encode()),
        ("__connect.errors.partition", str(rec.partition).encode()),
        ("__connect.errors.offset", str(rec.offset).encode()),
        ("__connect.errors.exception.class.name", (verdict.error_class or "").encode()),
        ("__connect.errors.exception.message", (verdict.error_message or "").encode()),
        *[(k, v) for k, v in (rec.headers or []) if not k.startswith("__connect.errors.")],
    ]


class Lander:
    def __init__(self, settings: Settings, batch_size: int | None = None) -> None:
        self.settings = settings
        self.batch_size = batch_size or int(os.environ.get("KOUIKI_LANDER_BATCH", "5000"))
        self.consumer = kafka_io.consumer(settings)
        self.dlq = kafka_io.producer(settings, max_request_size=kafka_io.DEADLETTER_MAX_BYTES)
        self.registry = registry_view.from_lake(settings)

    def close(self) -> None:
        self.consumer.close()
        self.dlq.close(timeout=10)

    def epoch_of(self, topic: str) -> str:
        if self.consumer._client.cluster.topic_id(topic) is None:
            self.consumer.topics()  # refresh metadata so partitions and topic ids are known
        topic_id = self.consumer._client.cluster.topic_id(topic)
        return topic_id.hex if topic_id is not None else "0"

    def land(self, topics: Iterable[str] = INGEST_TOPICS, timeout: float = 600.0,
             from_timestamp: datetime | None = None) -> LandingReport:
        """Land everything up to the current high watermark of every partition of ``topics``.

        With ``from_timestamp``, re-land from the first offset at or after that time into a new
        epoch ``replay-<time>`` instead, leaving every existing file as it is; the warehouse
        counts each event_id once, so a replay adds what was missing and duplicates nothing.
        """
        report = LandingReport()
        topics = sorted(topics, key=lambda t: t != REGISTRY_TOPIC)  # registrations first
        # Reports are landed only up to where they stood *before* the registrations were read:
        # `kouiki submit` acknowledges registrations before it sends reports, so every report
        # below that mark has its registration landed in this run, even while a submit is going on.
        caps = {t: self._end_offsets(t) for t in topics if t != REGISTRY_TOPIC} if from_timestamp is None else {}
        for topic in topics:
            self._land_topic(topic, report, time.monotonic() + timeout, from_timestamp, caps.get(topic))
        return report

    def _end_offsets(self, topic: str, timeout: float = 10.0) -> dict[int, int]:
        """The high watermark of every partition, from a fetch (end-offset lookups are unreliable)."""
        partitions = self._assign(topic, self.epoch_of(topic))
        deadline = time.monotonic() + timeout
        while any(self.consumer.highwater(tp) is None for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no high watermark for {topic} within {timeout:.0f} s")
            self._poll()
        return {tp.partition: int(self.consumer.highwater(tp)) for tp in partitions}

    def _land_topic(self, topic: str, report: LandingReport, deadline: float,
                    from_timestamp: datetime | None = None, caps: dict[int, int] | None = None) -> None:
        if from_timestamp is None:
            epoch = self.epoch_of(topic)
            partitions = self._assign(topic, epoch)
        else:
            epoch = f"replay-{from_timestamp.astimezone(UTC):%Y%m%dT%H%M%SZ}-{self.epoch_of(topic)[:8]}"
            partitions = self._assign(topic, epoch, from_timestamp)
        # Reports are checked in a worker process while the next batch is fetched; registrations are
        # checked here, in order, because each one extends the registry the next ones are checked against.
        checker = ParallelChecker(self.registry, workers=1) if topic != REGISTRY_TOPIC else None
        in_flight: deque[tuple[list[Any], Future[Checked] | Checked]] = deque()
        try:
            pending = set(partitions)
            while pending:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"landing did not reach the high watermark of {sorted(map(str, pending))}")
                for tp, fetched in self._poll().items():
                    limit = caps.get(tp.partition) if caps else None
                    records = [r for r in fetched if r.offset < limit] if limit is not None else fetched
                    if not records:
                        continue
                    batch = self._batch(records, epoch)
                    in_flight.append((records, checker.run(check_and_write, batch) if checker
                                      else check_and_write(self.registry, batch)))
                while len(in_flight) > (1 if checker else 0):
                    self._finish(*in_flight.popleft(), epoch, report)
                pending = {tp for tp in pending if not self._caught_up(tp, caps)}
            while in_flight:
                self._finish(*in_flight.popleft(), epoch, report)
        finally:
            if checker is not None:
                checker.__exit__()

    def _poll(self) -> dict[TopicPartition, list[Any]]:
        try:
            fetched: dict[TopicPartition, list[Any]] = self.consumer.poll(timeout_ms=500, max_records=self.batch_size)
        except OffsetOutOfRangeError as exc:
            raise LogResetError(f"{exc}: the broker log is shorter than the lake for the same topic id; "
                                "inspect the lake before landing again") from exc
        return fetched

    def _assign(self, topic: str, epoch: str, from_timestamp: datetime | None = None) -> list[TopicPartition]:
        partitions = [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or [])]
        self.consumer.assign(partitions)
        starts = self._offsets_at(partitions, from_timestamp) if from_timestamp else {}
        for tp in partitions:
            folder = lake.partition_dir(self.settings.raw_dir, topic, epoch, tp.partition)
            lake.remove_partial_files(folder)
            landed = lake.next_offset(folder)
            self.consumer.seek(tp, max(landed, starts.get(tp, 0)) if landed else starts.get(tp, 0))
        return partitions

    def _offsets_at(self, partitions: list[TopicPartition], moment: datetime) -> dict[TopicPartition, int]:
        """The first offset at or after ``moment`` per partition; past the end when there is none."""
        found = self.consumer.offsets_for_times({tp: int(moment.timestamp() * 1000) for tp in partitions})
        starts = {}
        for tp in partitions:
            hit = found.get(tp)
            if hit is not None and hit.offset >= 0:
                starts[tp] = hit.offset
            else:  # nothing that recent: start at the end (found from a fetch, see _caught_up)
                self.consumer.seek_to_end(tp)
                starts[tp] = self.consumer.position(tp)
        return starts

    def _caught_up(self, tp: TopicPartition, caps: dict[int, int] | None = None) -> bool:
        target = caps.get(tp.partition) if caps else None
        target = target if target is not None else self.consumer.highwater(tp)
        return target is not None and self.consumer.position(tp) >= target

    def _batch(self, records: list[Any], epoch: str) -> Batch:
        first = records[0]
        return Batch(first.topic, epoch, first.partition,
                     lake.partition_dir(self.settings.raw_dir, first.topic, epoch, first.partition),
                     [r.offset for r in records], [r.timestamp for r in records], [r.key for r in records],
                     [r.value for r in records], self.settings.max_message_bytes)

    def _finish(self, records: list[Any], pending: Future[Checked] | Checked, epoch: str,
                report: LandingReport) -> None:
        """Dead-letter what failed (acknowledged first), then put the batch file in place."""
        tmp, failures = pending.result() if isinstance(pending, Future) else pending
        futures = []
        for index, verdict in failures.items():
            rec = records[index]
            log.warning("dead-lettering %s[%d] offset=%d: %s", rec.topic, rec.partition, rec.offset,
                        verdict.error_message)
            futures.append(self.dlq.send(DEADLETTER_TOPIC, key=rec.key, value=rec.value,
                                         headers=_dead_letter_headers(rec, verdict)))
        for future in futures:
            future.get(timeout=30)
        lake.commit(tmp)
        first = records[0]
        statuses = [DEAD_LETTER if i in failures else LANDED for i in range(len(records))]
        report.add(first.topic, epoch, first.partition, statuses)


@dataclass(frozen=True)
class Batch:
    """One fetched batch of one partition, in the plain form that crosses to a worker process."""

    topic: str
    epoch: str
    partition: int
    folder: Path
    offsets: list[int]
    timestamps: list[int]
    keys: list[bytes | None]
    values: list[bytes | None]
    max_bytes: int


Checked = tuple[Path, dict[int, Verdict]]  # the pending batch file, and the failures by position


def check_and_write(registry: Registry | None, batch: Batch) -> Checked:
    """Check every message and write the batch under its temporary name (in a worker for reports)."""
    verdicts = [classify(batch.topic, value, batch.max_bytes, registry) for value in batch.values]
    columns: dict[str, list[Any]] = {
        "_offset": batch.offsets, "_kafka_ts": batch.timestamps, "_key": batch.keys,
        "_value": [v or b"" for v in batch.values], "_status": [v.status for v in verdicts],
        "_error_class": [v.error_class for v in verdicts], "_error_message": [v.error_message for v in verdicts],
    }
    tmp = lake.write_pending(batch.folder, batch.topic, batch.epoch, batch.partition, columns, datetime.now(UTC))
    return tmp, {i: v for i, v in enumerate(verdicts) if v.status == DEAD_LETTER}


def land(settings: Settings, topics: Iterable[str] = INGEST_TOPICS,
         from_timestamp: datetime | None = None) -> LandingReport:
    lander = Lander(settings)
    try:
        return lander.land(topics, from_timestamp=from_timestamp)
    finally:
        lander.close()
