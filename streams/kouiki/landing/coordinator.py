"""``kouiki ingest``: land what is on the topics now into the raw lake, exactly once.

Every partition of a topic is read by a partition process of its own (a Kafka consumer each, at
most ``lander_processes``; beyond that a process reads several partitions). It resumes one past
the highest offset already in the lake, reads up to a target offset (the high watermark seen in
the fetched data, since the local broker's end-offset lookups are unreliable), checks each message
and writes each fetched batch as an offset-named Parquet file under a temporary name. Checking is
CPU-bound Python, and so is decoding the fetched records, so one process per partition puts every
core to work on both.

The coordinating process does every step that makes a batch count, in offset order per partition:
a message that failed the checks is produced unchanged to the dead-letter topic with Kafka Connect
style error headers, and only once those are acknowledged is the batch file renamed into place. The
failed message stays in the file with ``_status = 'dead_letter'``, so consumed = landed +
dead-lettered holds per partition, and a crash at any point leaves at most a temporary file, which
the next run removes before it lands that batch again.

A partition that cannot be read stops only itself (``partition_worker.PartitionReader``): every other
partition lands in the same run, and the stuck one is recorded with its offset and error in
``run/stuck_partitions.json`` (``stuck``) and returned in ``LandingCounts.stuck``, for
``kouiki ingest`` to exit non-zero and the ingest DAG to raise an alert.

Every message must be signed (``contract.signature``) by a key of the key ring, which the
coordinator reads once per run (``identity.signing_keys.keyring``) before the partition processes fork: a key that
exists, was active at the message's timestamp and may write the document; anything else is
dead-lettered like a document that breaks the contract, with the reason as its error class
(``dead_letters.classify``).

The registry topic is landed first, so reports are checked against the consortia and projects
registered before them: a registration partition checks each registration against what was
registered before it (a consortium and its projects share a partition), and the reports are
checked against everything landed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from typing import TYPE_CHECKING

from kouiki.config import Settings
from kouiki.identity.keys import KeyRing
from kouiki.identity.signing_keys import keyring as stored_keyring
from kouiki.lake import files as lake
from kouiki.lake.registry import from_lake
from kouiki.landing import stuck as stuck_state
from kouiki.landing.dead_letters import dead_letter_headers
from kouiki.landing.idle import Plan
from kouiki.landing.partition_worker import (
    Done,
    Failed,
    LogResetError,
    Message,
    PartitionTask,
    Stuck,
    WrittenBatch,
    land_partitions,
)
from kouiki.messaging import clients
from kouiki.messaging.topics import DEADLETTER_TOPIC, INGEST_TOPICS, REGISTRY_TOPIC

if TYPE_CHECKING:  # kafka-python only without a plan (kouiki.landing.idle): imported where used
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

log = logging.getLogger(__name__)


@dataclass
class LandingCounts:
    """Counts per (topic, epoch, partition): consumed, landed, dead-lettered, files written."""

    counts: dict[tuple[str, str, int], dict[str, int]] = field(default_factory=dict)
    stuck: list[stuck_state.StuckPartition] = field(default_factory=list)  # found in this run

    def add(self, topic: str, epoch: str, partition: int, consumed: int, dead_lettered: int) -> None:
        entry = self.counts.setdefault(
            (topic, epoch, partition), {"consumed": 0, "landed": 0, "dead_lettered": 0, "files": 0}
        )
        entry["consumed"] += consumed
        entry["landed"] += consumed - dead_lettered
        entry["dead_lettered"] += dead_lettered
        entry["files"] += 1

    @property
    def consumed(self) -> int:
        return sum(c["consumed"] for c in self.counts.values())


class Lander:
    """The coordinating process of one ``kouiki ingest`` run (see the module docstring)."""

    def __init__(self, settings: Settings, keyring: KeyRing | None = None) -> None:
        self.settings = settings
        # Every key, read once per run before the partition processes fork (they inherit it).
        self.keyring = stored_keyring(settings) if keyring is None else keyring
        # Without a plan: a consumer (metadata, end and start offsets) and an admin client (topic
        # ids, which name the epochs), created when first needed.
        self._consumer: KafkaConsumer | None = None
        self._admin: KafkaAdminClient | None = None
        # Created on the first dead letter, after the partition processes have forked: forking a
        # process that runs the producer's sender thread can deadlock the child.
        self.dead_letter_producer: clients.Producer | None = None
        self.registry = from_lake(settings)
        self._epochs: dict[str, str] = {}

    @property
    def consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = clients.consumer(self.settings)
        return self._consumer

    @property
    def admin(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = clients.admin(self.settings)
        return self._admin

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
        if self._admin is not None:
            self._admin.close()
        self._close_dead_letter_producer()

    def _close_dead_letter_producer(self) -> None:
        if self.dead_letter_producer is not None:
            self.dead_letter_producer.close(timeout=10)
            self.dead_letter_producer = None

    def epoch_of(self, topic: str) -> str:
        """The topic's epoch (its topic id), asked of the broker once per run."""
        if topic not in self._epochs:
            from kouiki.messaging.watermarks import topic_epochs

            self._epochs.update(topic_epochs(self.admin, [topic]))
        return self._epochs[topic]

    def land_planned(self, plan: Plan, topics: Iterable[str] = INGEST_TOPICS, timeout: float = 600.0) -> LandingCounts:
        """Land every partition of ``topics`` up to where ``plan`` saw its log end (the registry first,
        whose end the plan saw after the reports' ends); a partition already landed to there costs
        nothing, and clears its stuck entry if it had one."""
        report = LandingCounts()
        deadline = time.monotonic() + timeout
        for topic in sorted(topics, key=lambda t: t != REGISTRY_TOPIC):
            epoch = plan.epochs[topic]
            tasks, done = [], []
            for partition in sorted(p for t, p in plan.ends if t == topic):
                folder = lake.partition_dir(self.settings.raw_dir, topic, epoch, partition)
                lake.remove_partial_files(folder)
                start, stop = lake.next_offset(folder), plan.ends[(topic, partition)]
                if start < stop:
                    tasks.append(PartitionTask(topic, epoch, partition, start, stop, deadline))
                else:
                    done.append((topic, epoch, partition))
            self._land_topic(tasks, report, done)
            if topic == REGISTRY_TOPIC and tasks:
                self.registry = from_lake(self.settings)  # with what was just landed
        return report

    def land(
        self, topics: Iterable[str] = INGEST_TOPICS, timeout: float = 600.0, from_timestamp: datetime | None = None
    ) -> LandingCounts:
        """Land everything up to the current high watermark of every partition of ``topics``.

        With ``from_timestamp``, re-land from the first offset at or after that time into a new
        epoch ``replay-<time>`` instead, leaving every existing file as it is; the warehouse
        counts each event_id once, so a replay adds what was missing and duplicates nothing.
        """
        report = LandingCounts()
        topics = sorted(topics, key=lambda t: t != REGISTRY_TOPIC)  # registrations first
        # Reports are landed only up to where they stood *before* the registrations were read:
        # `kouiki submit` acknowledges registrations before it sends reports, so every report
        # below that mark has its registration landed in this run, even while a submit is going on.
        caps = {t: self._end_offsets(t) for t in topics if t != REGISTRY_TOPIC} if from_timestamp is None else {}
        deadline = time.monotonic() + timeout
        for topic in topics:
            self._land_topic(self._tasks(topic, deadline, from_timestamp, caps.get(topic)), report)
            if topic == REGISTRY_TOPIC:
                self.registry = from_lake(self.settings)  # with what was just landed
        return report

    def _end_offsets(self, topic: str, timeout: float = 10.0) -> dict[int, int]:
        """The high watermark of every partition, from a fetch (end-offset lookups are unreliable)."""
        from kafka.errors import OffsetOutOfRangeError

        from kouiki.messaging.watermarks import high_watermarks

        partitions = self._assign(topic)
        try:
            marks = high_watermarks(self.consumer, partitions, timeout)
        except OffsetOutOfRangeError as exc:
            raise LogResetError.of(exc) from exc
        return {tp.partition: mark for tp, mark in marks.items()}

    def _assign(self, topic: str) -> list[TopicPartition]:
        """Read every partition of ``topic`` from where its landing resumes."""
        from kafka import TopicPartition

        epoch = self.epoch_of(topic)
        partitions = [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or [])]
        self.consumer.assign(partitions)
        for tp in partitions:
            folder = lake.partition_dir(self.settings.raw_dir, topic, epoch, tp.partition)
            self.consumer.seek(tp, lake.next_offset(folder))
        return partitions

    def _tasks(
        self, topic: str, deadline: float, from_timestamp: datetime | None, caps: dict[int, int] | None
    ) -> list[PartitionTask]:
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
            start = max(landed, starts.get(tp, 0))
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
            else:  # nothing that recent: start at the end
                self.consumer.seek_to_end(tp)
                starts[tp] = self.consumer.position(tp)
        return starts

    def _land_topic(
        self, tasks: list[PartitionTask], report: LandingCounts, landed: list[tuple[str, str, int]] | None = None
    ) -> None:
        """Start the partition processes and put their batches in place as they arrive; ``landed``
        names partitions already landed to their end, whose stuck entries are cleared too."""
        if not tasks:
            if landed:
                stuck_state.update(self.settings, [], landed)
            return
        context = multiprocessing.get_context("fork")  # the registry is inherited, not copied
        results: Queue[Message] = context.Queue()
        count = max(1, min(len(tasks), self.settings.lander_processes))
        processes = [
            context.Process(
                target=land_partitions,
                daemon=True,
                name=f"kouiki-lander-{i}",
                args=(self.settings, self.registry, self.keyring, tasks[i::count], os.getpid(), results),
            )
            for i in range(count)
        ]
        for process in processes:
            process.start()
        found: list[stuck_state.StuckPartition] = []
        finished: list[tuple[str, str, int]] = list(landed or [])
        epoch = tasks[0].epoch
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
                if isinstance(message, Done):
                    finished += [(tasks[0].topic, epoch, p) for p in message.partitions]
                    running -= 1
                else:
                    self._receive(message, report, found)
            stored = stuck_state.update(self.settings, found, finished)
            report.stuck += [e for e in stored if e.key in {f.key for f in found}]  # with first_seen kept
        finally:
            self._close_dead_letter_producer()  # before the next topic's processes fork
            for process in processes:
                if process.is_alive():
                    process.kill()
                process.join()
            results.close()

    def _receive(
        self, message: WrittenBatch | Stuck | Failed, report: LandingCounts, found: list[stuck_state.StuckPartition]
    ) -> None:
        if isinstance(message, WrittenBatch):
            self._put_in_place(message, report)
        elif isinstance(message, Stuck):
            found.append(stuck_state.StuckPartition.of(message))
            log.error("%s", found[-1].describe())
        else:
            raise message.error

    def _put_in_place(self, batch: WrittenBatch, report: LandingCounts) -> None:
        """Dead-letter what failed (acknowledged first), then rename the batch file into place."""
        futures = []
        for dead in batch.dead_letters:
            log.warning(
                "dead-lettering %s[%d] offset=%d: %s",
                batch.topic,
                batch.partition,
                dead.offset,
                dead.verdict.error_message,
            )
            if self.dead_letter_producer is None:
                self.dead_letter_producer = clients.producer(
                    self.settings, **{"message.max.bytes": clients.DEADLETTER_MAX_BYTES}
                )
            futures.append(
                self.dead_letter_producer.send(
                    DEADLETTER_TOPIC,
                    key=dead.key,
                    value=dead.value,
                    headers=dead_letter_headers(batch.topic, batch.partition, dead),
                )
            )
        if self.dead_letter_producer is not None and futures:
            self.dead_letter_producer.flush(timeout=30)
        for future in futures:
            future.get()
        lake.commit(batch.pending, self.settings.fault_pause_before_rename_ms)
        report.add(batch.topic, batch.epoch, batch.partition, batch.count, len(batch.dead_letters))


def land(
    settings: Settings,
    topics: Iterable[str] = INGEST_TOPICS,
    from_timestamp: datetime | None = None,
    keyring: KeyRing | None = None,
    plan: Plan | None = None,
) -> LandingCounts:
    """``kouiki ingest``: land every partition of ``topics`` up to its current high watermark (or to
    where ``plan``, the idle check's look, saw it end), checking signatures against ``keyring`` (by
    default every key of the identity store)."""
    lander = Lander(settings, keyring)
    try:
        if plan is not None and from_timestamp is None:
            return lander.land_planned(plan, topics)
        return lander.land(topics, from_timestamp=from_timestamp)
    finally:
        lander.close()
