"""``kouiki ingest``: land what is on the topics now into the raw lake, exactly once.

Per partition the lander resumes one past the highest offset already in the lake, reads up to the
high watermark seen in the fetched data (the local broker's end-offset lookups are unreliable),
checks each message, and writes contiguous batches as offset-named Parquet files. A message that
fails the checks is produced unchanged to the dead-letter topic with Kafka Connect style error
headers *before* its batch file is renamed into place, and it is kept in the batch file with
``_status = 'dead_letter'``, so consumed = landed + dead-lettered holds per partition.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import TopicPartition
from kafka.errors import OffsetOutOfRangeError

from kouiki import kafka_io, lake
from kouiki.config import DEADLETTER_TOPIC, INGEST_TOPICS, Settings
from kouiki.contract.reader import loads
from kouiki.contract.validate import kind_of, topic_for, validate

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

    def add(self, topic: str, epoch: str, partition: int, rows: list[lake.Row]) -> None:
        entry = self.counts.setdefault((topic, epoch, partition),
                                       {"consumed": 0, "landed": 0, "dead_lettered": 0, "files": 0})
        entry["consumed"] += len(rows)
        entry["landed"] += sum(r.status == LANDED for r in rows)
        entry["dead_lettered"] += sum(r.status == DEAD_LETTER for r in rows)
        entry["files"] += 1

    @property
    def consumed(self) -> int:
        return sum(c["consumed"] for c in self.counts.values())


def classify(topic: str, value: bytes | None, max_bytes: int) -> Verdict:
    """Decide whether one message may be landed. Pure: no I/O."""
    if value is None:
        return Verdict(DEAD_LETTER, "EmptyMessage", "message has no value")
    if len(value) > max_bytes:
        return Verdict(DEAD_LETTER, "MessageTooLarge", f"{len(value):,} bytes exceeds the {max_bytes:,} limit")
    try:
        doc = loads(value.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return Verdict(DEAD_LETTER, "NotUtf8", str(exc))
    except (ValueError, RecursionError) as exc:
        return Verdict(DEAD_LETTER, "InvalidJson", str(exc)[:500])
    if topic_for(kind_of(doc)) != topic:
        return Verdict(DEAD_LETTER, "WrongTopic", f"a {kind_of(doc)} document does not belong on {topic}")
    violations = validate(doc)
    if violations:
        return Verdict(DEAD_LETTER, "SchemaViolation", "; ".join(map(str, violations))[:2000])
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
    def __init__(self, settings: Settings, batch_size: int = 5000) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.consumer = kafka_io.consumer(settings)
        self.dlq = kafka_io.producer(settings)

    def close(self) -> None:
        self.consumer.close()
        self.dlq.close(timeout=10)

    def epoch_of(self, topic: str) -> str:
        topic_id = self.consumer._client.cluster.topic_id(topic)
        return topic_id.hex if topic_id is not None else "0"

    def land(self, topics: Iterable[str] = INGEST_TOPICS, timeout: float = 60.0) -> LandingReport:
        """Land everything up to the current high watermark of every partition of ``topics``."""
        report = LandingReport()
        partitions = self._assign(list(topics))
        epochs = {tp.topic: self.epoch_of(tp.topic) for tp in partitions}
        pending = set(partitions)
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"landing did not reach the high watermark of {sorted(map(str, pending))}")
            try:
                fetched = self.consumer.poll(timeout_ms=500, max_records=self.batch_size)
            except OffsetOutOfRangeError as exc:
                raise LogResetError(f"{exc}: the broker log is shorter than the lake for the same topic id; "
                                    "inspect the lake before landing again") from exc
            for tp, records in fetched.items():
                rows = self._check_and_dead_letter(records, epochs[tp.topic])
                folder = lake.partition_dir(self.settings.raw_dir, tp.topic, epochs[tp.topic], tp.partition)
                lake.write_batch(folder, rows)
                report.add(tp.topic, epochs[tp.topic], tp.partition, rows)
            pending = {tp for tp in pending if not self._caught_up(tp)}
        return report

    def _assign(self, topics: list[str]) -> list[TopicPartition]:
        self.consumer.topics()  # refresh metadata so partitions and topic ids are known
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(self.consumer.partitions_for_topic(t) or [])]
        self.consumer.assign(partitions)
        for tp in partitions:
            folder = lake.partition_dir(self.settings.raw_dir, tp.topic, self.epoch_of(tp.topic), tp.partition)
            lake.remove_partial_files(folder)
            self.consumer.seek(tp, lake.next_offset(folder))
        return partitions

    def _caught_up(self, tp: TopicPartition) -> bool:
        highwater = self.consumer.highwater(tp)
        return highwater is not None and self.consumer.position(tp) >= highwater

    def _check_and_dead_letter(self, records: list[Any], epoch: str) -> list[lake.Row]:
        now = datetime.now(UTC)
        rows, futures = [], []
        for rec in records:
            verdict = classify(rec.topic, rec.value, self.settings.max_message_bytes)
            if verdict.status == DEAD_LETTER:
                log.warning("dead-lettering %s[%d] offset=%d: %s", rec.topic, rec.partition, rec.offset,
                            verdict.error_message)
                futures.append(self.dlq.send(DEADLETTER_TOPIC, key=rec.key, value=rec.value,
                                             headers=_dead_letter_headers(rec, verdict)))
            rows.append(lake.Row(
                topic=rec.topic, epoch=epoch, partition=rec.partition, offset=rec.offset,
                kafka_ts=datetime.fromtimestamp(rec.timestamp / 1000, UTC),
                key=rec.key.decode("utf-8", "replace") if rec.key is not None else None,
                value=rec.value or b"", ingested_at=now, status=verdict.status,
                error_class=verdict.error_class, error_message=verdict.error_message))
        for future in futures:
            future.get(timeout=30)  # dead letters are acknowledged before the batch counts as landed
        return rows


def land(settings: Settings, topics: Iterable[str] = INGEST_TOPICS) -> LandingReport:
    lander = Lander(settings)
    try:
        return lander.land(topics)
    finally:
        lander.close()
