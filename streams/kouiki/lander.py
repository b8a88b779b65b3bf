"""``kouiki ingest``: land what is on the topics now into the raw lake, exactly once.

Every partition of a topic is read by a partition process of its own (a Kafka consumer each, at
most ``MAX_PARTITION_PROCESSES``). It resumes one past the highest offset already in the lake,
reads up to a target offset (the high watermark seen in the fetched data, since the local broker's
end-offset lookups are unreliable), checks each message and writes each fetched batch as an
offset-named Parquet file under a temporary name. Checking is CPU-bound Python, and so is decoding
the fetched records, so one process per partition puts every core to work on both.

The coordinating process does every step that makes a batch count, in offset order per partition:
a message that failed the checks is produced unchanged to the dead-letter topic with Kafka Connect
style error headers, and only once those are acknowledged is the batch file renamed into place. The
failed message stays in the file with ``_status = 'dead_letter'``, so consumed = landed +
dead-lettered holds per partition, and a crash at any point leaves at most a temporary file, which
the next run removes before it lands that batch again.

The registry topic is landed first, so reports are checked against the consortia and projects
registered before them: a registration partition checks each registration against what was
registered before it (a consortium and its projects share a partition), and the reports are
checked against everything landed.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import OffsetOutOfRangeError

from kouiki import kafka_io, lake, registry_view
from kouiki.config import DEADLETTER_TOPIC, INGEST_TOPICS, REGISTRY_TOPIC, Settings
from kouiki.contract.rules import Registry
from kouiki.contract.validate import check_bytes, topic_for

log = logging.getLogger(__name__)

LANDED = "landed"
DEAD_LETTER = "dead_letter"
MAX_PARTITION_PROCESSES = 8


class LogResetError(RuntimeError):
    """The broker's log is behind what was landed for the same topic id: refuse to guess."""


@dataclass(frozen=True)
class Verdict:
    status: str
    error_class: str | None = None
    error_message: str | None = None


_LANDED = Verdict(LANDED)


@dataclass
class LandingReport:
    """Counts per (topic, epoch, partition): consumed, landed, dead-lettered, files written."""

    counts: dict[tuple[str, str, int], dict[str, int]] = field(default_factory=dict)

    def add(self, topic: str, epoch: str, partition: int, consumed: int, dead_lettered: int) -> None:
        entry = self.counts.setdefault((topic, epoch, partition),
                                       {"consumed": 0, "landed": 0, "dead_lettered": 0, "files": 0})
        entry["consumed"] += consumed
        entry["landed"] += consumed - dead_lettered
        entry["dead_lettered"] += dead_lettered
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
    return _LANDED


@dataclass(frozen=True)
class PartitionTask:
    """One partition to land: from ``start`` up to ``stop`` (exclusive), or up to the high watermark
    seen while reading when ``stop`` is None."""

    topic: str
    epoch: str
    partition: int
    start: int
    stop: int | None
    deadline: float  # time.monotonic(), which every process shares


@dataclass(frozen=True)
class DeadLetter:
    """A message that failed the checks, with what the dead-letter topic needs of it."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    verdict: Verdict


@dataclass(frozen=True)
class WrittenBatch:
    """A batch file written under its temporary name, waiting for the coordinator to put it in place."""

    topic: str
    epoch: str
    partition: int
    pending: Path
    count: int
    dead_letters: list[DeadLetter]


@dataclass(frozen=True)
class _Done:
    partitions: list[int]


@dataclass(frozen=True)
class _Failed:
    error_class: str
    message: str

    def error(self) -> Exception:
        known: dict[str, type[Exception]] = {"LogResetError": LogResetError, "TimeoutError": TimeoutError}
        return known.get(self.error_class, RuntimeError)(self.message if self.error_class in known
                                                         else f"{self.error_class}: {self.message}")


def _dead_letter_headers(topic: str, partition: int, dead: DeadLetter) -> list[tuple[str, bytes]]:
    return [
        ("__connect.errors.topic", topic.encode()),
        ("__connect.errors.partition", str(partition).encode()),
        ("__connect.errors.offset", str(dead.offset).encode()),
        ("__connect.errors.exception.class.name", (dead.verdict.error_class or "").encode()),
        ("__connect.errors.exception.message", (dead.verdict.error_message or "").encode()),
        *[(k, v) for k, v in dead.headers if not k.startswith("__connect.errors.")],
    ]


class Lander:
    def __init__(self, settings: Settings, batch_size: int | None = None) -> None:
        self.settings = settings
        self.batch_size = batch_size or int(os.environ.get("KOUIKI_LANDER_BATCH", "5000"))
        self.consumer = kafka_io.consumer(settings)  # metadata, end offsets and start offsets only
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
        deadline = time.monotonic() + timeout
        for topic in topics:
            self._land_topic(self._tasks(topic, deadline, from_timestamp, caps.get(topic)), report)
            if topic == REGISTRY_TOPIC:
                self.registry = registry_view.from_lake(self.settings)  # with what was just landed
        return report

    def _end_offsets(self, topic: str, timeout: float = 10.0) -> dict[int, int]:
        """The high watermark of every partition, from a fetch (end-offset lookups are unreliable)."""
        partitions = self._assign(topic)
        deadline = time.monotonic() + timeout
        while any(self.consumer.highwater(tp) is None for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no high watermark for {topic} within {timeout:.0f} s")
            _poll(self.consumer, 1)  # one record decoded: only the watermark is wanted
        return {tp.partition: int(self.consumer.highwater(tp)) for tp in partitions}

    def _assign(self, topic: str) -> list[TopicPartition]:
        """Read every partition of ``topic`` from where its landing resumes."""
        epoch = self.epoch_of(topic)
        partitions = [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or [])]
        self.consumer.assign(partitions)
        for tp in partitions:
            folder = lake.partition_dir(self.settings.raw_dir, topic, epoch, tp.partition)
            self.consumer.seek(tp, lake.next_offset(folder))
        return partitions

    def _tasks(self, topic: str, deadline: float, from_timestamp: datetime | None,
               caps: dict[int, int] | None) -> list[PartitionTask]:
        """Where each partition resumes: one past what is in the lake, or where a replay begins."""
        if from_timestamp is None:
            epoch = self.epoch_of(topic)
        else:
            epoch = f"replay-{from_timestamp.astimezone(UTC):%Y%m%dT%H%M%SZ}-{self.epoch_of(topic)[:8]}"
        partitions = self._assign(topic)
        starts = self._offsets_at(partitions, from_timestamp) if from_timestamp else {}
        tasks = []
        for tp in partitions:
            folder = lake.partition_dir(self.settings.raw_dir, topic, epoch, tp.partition)
            lake.remove_partial_files(folder)
            landed = lake.next_offset(folder)
            start = max(landed, starts.get(tp, 0)) if landed else starts.get(tp, 0)
            tasks.append(PartitionTask(topic, epoch, tp.partition, start, (caps or {}).get(tp.partition), deadline))
        return tasks

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

    def _land_topic(self, tasks: list[PartitionTask], report: LandingReport) -> None:
        """Start the partition processes and put their batches in place as they arrive."""
        if not tasks:
            return
        context = multiprocessing.get_context("fork")  # the registry is inherited, not copied
        results: Queue[WrittenBatch | _Done | _Failed] = context.Queue()
        count = min(len(tasks), MAX_PARTITION_PROCESSES)
        processes = [context.Process(target=_land_partitions, daemon=True, name=f"kouiki-lander-{i}",
                                     args=(self.settings, self.registry, tasks[i::count], self.batch_size,
                                           os.getpid(), results))
                     for i in range(count)]
        for process in processes:
            process.start()
        try:
            running = count
            while running:
                try:
                    message = results.get(timeout=1.0)
                except queue.Empty:
                    dead = [p for p in processes if p.exitcode not in (None, 0)]
                    if dead:
                        raise RuntimeError(f"partition process {dead[0].name} exited with {dead[0].exitcode}") from None
                    continue
                if isinstance(message, WrittenBatch):
                    self._put_in_place(message, report)
                elif isinstance(message, _Done):
                    running -= 1
                else:
                    raise message.error()
        finally:
            for process in processes:
                if process.is_alive():
                    process.kill()
                process.join()
            results.close()

    def _put_in_place(self, batch: WrittenBatch, report: LandingReport) -> None:
        """Dead-letter what failed (acknowledged first), then rename the batch file into place."""
        futures = []
        for dead in batch.dead_letters:
            log.warning("dead-lettering %s[%d] offset=%d: %s", batch.topic, batch.partition, dead.offset,
                        dead.verdict.error_message)
            futures.append(self.dlq.send(DEADLETTER_TOPIC, key=dead.key, value=dead.value,
                                         headers=_dead_letter_headers(batch.topic, batch.partition, dead)))
        for future in futures:
            future.get(timeout=30)
        lake.commit(batch.pending)
        report.add(batch.topic, batch.epoch, batch.partition, batch.count, len(batch.dead_letters))


def _land_partitions(settings: Settings, registry: Registry, tasks: list[PartitionTask], batch_size: int,
                     coordinator: int, results: Queue[WrittenBatch | _Done | _Failed]) -> None:
    """A partition process: read, check and write every batch of ``tasks``, reporting each one."""
    _die_with(coordinator)
    gc.freeze()  # the inherited heap is never garbage: keep collections from walking it
    consumer: KafkaConsumer | None = None
    try:
        consumer = kafka_io.consumer(settings)
        by_partition = {TopicPartition(t.topic, t.partition): t for t in tasks}
        consumer.assign(list(by_partition))
        for tp, task in by_partition.items():
            consumer.seek(tp, task.start)
        pending = set(by_partition)
        while pending:
            if time.monotonic() > tasks[0].deadline:
                raise TimeoutError(f"landing did not reach the end of {sorted(map(str, pending))}")
            for tp, records in _poll(consumer, batch_size).items():
                task = by_partition[tp]
                if task.stop is not None and records and records[-1].offset >= task.stop:
                    records = [r for r in records if r.offset < task.stop]
                if records:
                    results.put(check_and_write(registry, task, records, settings))
            pending = {tp for tp in pending if not _caught_up(consumer, tp, by_partition[tp].stop)}
        results.put(_Done([t.partition for t in tasks]))
    except Exception as exc:  # noqa: BLE001 - every failure is reported to the coordinator, which raises it
        results.put(_Failed(type(exc).__name__, str(exc)))
    finally:
        if consumer is not None:
            consumer.close()


def _die_with(coordinator: int) -> None:
    """A partition process must not outlive a SIGKILLed coordinator: the next run lands the same
    partitions. Linux delivers SIGKILL to it when its parent dies (prctl PR_SET_PDEATHSIG)."""
    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except AttributeError:  # not Linux
        return
    if os.getppid() != coordinator:  # it died before the request took effect
        os._exit(1)


def _poll(consumer: KafkaConsumer, max_records: int) -> dict[TopicPartition, list[Any]]:
    try:
        fetched: dict[TopicPartition, list[Any]] = consumer.poll(timeout_ms=500, max_records=max_records)
    except OffsetOutOfRangeError as exc:
        raise LogResetError(f"{exc}: the broker log is shorter than the lake for the same topic id; "
                            "inspect the lake before landing again") from exc
    return fetched


def _caught_up(consumer: KafkaConsumer, tp: TopicPartition, stop: int | None) -> bool:
    target = stop if stop is not None else consumer.highwater(tp)
    return target is not None and consumer.position(tp) >= target


def check_and_write(registry: Registry | None, task: PartitionTask, records: list[Any],
                    settings: Settings) -> WrittenBatch:
    """Check every record of one fetched batch and write the batch under its temporary name."""
    values = [r.value for r in records]
    verdicts = [classify(task.topic, value, settings.max_message_bytes, registry) for value in values]
    columns: dict[str, list[Any]] = {
        "_offset": [r.offset for r in records], "_kafka_ts": [r.timestamp for r in records],
        "_key": [r.key for r in records], "_value": [v or b"" for v in values],
        "_status": [v.status for v in verdicts], "_error_class": [v.error_class for v in verdicts],
        "_error_message": [v.error_message for v in verdicts],
    }
    folder = lake.partition_dir(settings.raw_dir, task.topic, task.epoch, task.partition)
    pending = lake.write_pending(folder, task.topic, task.epoch, task.partition, columns, datetime.now(UTC))
    dead = [DeadLetter(r.offset, r.key, r.value, list(r.headers or []), v)
            for r, v in zip(records, verdicts, strict=True) if v.status == DEAD_LETTER]
    return WrittenBatch(task.topic, task.epoch, task.partition, pending, len(records), dead)


def land(settings: Settings, topics: Iterable[str] = INGEST_TOPICS,
         from_timestamp: datetime | None = None) -> LandingReport:
    lander = Lander(settings)
    try:
        return lander.land(topics, from_timestamp=from_timestamp)
    finally:
        lander.close()
