"""A partition process of the lander: read, check and write every fetched batch of its partitions
under a temporary name, and hand each batch to the coordinator (see ``coordinator``).

A partition that cannot be read (a record batch failing its CRC, an unknown codec, bytes that do
not decode) stops only itself: when a poll raises, each pending partition is read alone by a
consumer of its own, and one that raises again is reported as ``Stuck`` at its position, the first
offset not landed. The others go on with a new consumer. Nothing is skipped: the position never moves past the bad
batch; only ``kouiki quarantine`` lets landing resume after it."""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import OffsetOutOfRangeError

from kouiki.config import Settings
from kouiki.contract.rules import Registry
from kouiki.identity.keys import KeyRing
from kouiki.lake import files as lake
from kouiki.landing.dead_letters import DeadLetter, Verifier, classify
from kouiki.messaging import clients
from kouiki.messaging.watermarks import caught_up


class LogResetError(RuntimeError):
    """The broker's log is behind what was landed for the same topic id: refuse to guess."""

    @classmethod
    def of(cls, exc: OffsetOutOfRangeError) -> LogResetError:
        return cls(
            f"{exc}: the broker log is shorter than the lake for the same topic id; "
            "inspect the lake before landing again"
        )


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
class WrittenBatch:
    """A batch file written under its temporary name, waiting for the coordinator to put it in place."""

    topic: str
    epoch: str
    partition: int
    pending: Path
    count: int
    dead_letters: list[DeadLetter]


@dataclass(frozen=True)
class Done:
    """The process has finished: ``partitions`` reached their stop; any other of its tasks is stuck."""

    partitions: list[int]


@dataclass(frozen=True)
class Stuck:
    """A partition that cannot be read at ``offset`` (the first offset not landed)."""

    topic: str
    epoch: str
    partition: int
    offset: int
    error_class: str
    error_message: str


@dataclass(frozen=True)
class Failed:
    """A partition process's failure: the exception itself, or a RuntimeError naming it when it
    cannot cross the queue (an unpicklable exception would be dropped there, silently)."""

    error: Exception

    @classmethod
    def of(cls, exc: Exception) -> Failed:
        try:
            pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, this line
        except Exception:  # noqa: BLE001 - any failure to round-trip means: send a description
            return cls(RuntimeError(f"{type(exc).__name__}: {exc}"))
        return cls(exc)


Message = WrittenBatch | Done | Stuck | Failed
PROBE_SECONDS = 10.0  # how long one partition polled alone may take to show records or fail


def land_partitions(  # noqa: PLR0913 - one process's whole task, passed by fork
    settings: Settings,
    registry: Registry,
    keyring: KeyRing,
    tasks: list[PartitionTask],
    coordinator: int,
    results: Queue[Message],
) -> None:
    """Read, check and write every batch of ``tasks``, reporting each one to the coordinator."""
    _die_with(coordinator)
    gc.freeze()  # the inherited heap is never garbage: keep collections from walking it
    consumer: KafkaConsumer | None = None
    try:
        verifier = Verifier(keyring)
        by_partition = {TopicPartition(t.topic, t.partition): t for t in tasks}
        consumer = _consumer(settings, {tp: t.start for tp, t in by_partition.items()})
        pending = set(by_partition)
        stuck: set[TopicPartition] = set()
        while pending:
            if time.monotonic() > tasks[0].deadline:
                raise TimeoutError(f"landing did not reach the end of {sorted(map(str, pending))}")
            try:
                fetched = poll(consumer, settings.lander_batch)
            except LogResetError:
                raise
            except Exception as exc:  # noqa: BLE001 - which partition is unreadable is found out, not guessed
                # kafka-python keeps the failed batch's spent iterator, so this consumer cannot be
                # polled again: every partition resumes from its position with a new one.
                positions = {tp: consumer.position(tp) for tp in pending}
                consumer.close()
                consumer = None
                stuck |= report_unreadable(settings, by_partition, positions, exc, results)
                pending -= stuck
                consumer = _consumer(settings, {tp: positions[tp] for tp in pending})
                continue
            for tp, records in fetched.items():
                write(registry, by_partition[tp], records, settings, verifier, results)
            finished = {tp for tp in pending if caught_up(consumer, tp, by_partition[tp].stop)}
            if finished:
                consumer.pause(*finished)  # nothing past a stop is fetched (nor can fail) any more
            pending -= finished
        results.put(Done([t.partition for t in tasks if TopicPartition(t.topic, t.partition) not in stuck]))
    except Exception as exc:  # noqa: BLE001 - every failure is reported to the coordinator, which raises it
        results.put(Failed.of(exc))
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


def poll(consumer: KafkaConsumer, max_records: int) -> dict[TopicPartition, list[Any]]:
    try:
        fetched: dict[TopicPartition, list[Any]] = consumer.poll(timeout_ms=500, max_records=max_records)
    except OffsetOutOfRangeError as exc:
        raise LogResetError.of(exc) from exc
    return fetched


def isolate(
    settings: Settings, positions: dict[TopicPartition, int], stops: dict[TopicPartition, int | None], first: Exception
) -> dict[TopicPartition, Exception]:
    """After a poll raised ``first``: read each pending partition alone from ``positions``, with a
    consumer of its own, and return those that raise on their own. One that returns records or
    reaches its end is readable; its records are fetched again by the next consumer. When none
    raises on its own, ``first`` is raised: which partition failed is never guessed."""
    failures: dict[TopicPartition, Exception] = {}
    for tp, position in sorted(positions.items(), key=lambda item: (item[0].topic, item[0].partition)):
        probe = clients.consumer(settings, client_id="kouiki-lander-probe")
        try:
            probe.assign([tp])
            probe.seek(tp, position)
            until = time.monotonic() + PROBE_SECONDS
            while time.monotonic() < until and not caught_up(probe, tp, stops[tp]):
                try:
                    if poll(probe, 1):
                        break
                except LogResetError:
                    raise
                except Exception as exc:  # noqa: BLE001 - this partition's own failure
                    failures[tp] = exc
                    break
        finally:
            probe.close()
    if not failures:
        raise first
    return failures


def report_unreadable(
    settings: Settings,
    by_partition: dict[TopicPartition, PartitionTask],
    positions: dict[TopicPartition, int],
    first: Exception,
    results: Queue[Message],
) -> set[TopicPartition]:
    """Find the partitions that cannot be read (``isolate``) and report each as ``Stuck``."""
    failures = isolate(settings, positions, {tp: by_partition[tp].stop for tp in positions}, first)
    for tp, error in failures.items():
        task = by_partition[tp]
        results.put(Stuck(tp.topic, task.epoch, tp.partition, positions[tp], type(error).__name__, str(error)[:2000]))
    return set(failures)


def _consumer(settings: Settings, positions: dict[TopicPartition, int]) -> KafkaConsumer:
    consumer = clients.consumer(settings)
    consumer.assign(list(positions))
    for tp, position in positions.items():
        consumer.seek(tp, position)
    return consumer


def write(  # noqa: PLR0913 - the batch and what checking and reporting it needs
    registry: Registry,
    task: PartitionTask,
    records: list[Any],
    settings: Settings,
    verifier: Verifier,
    results: Queue[Message],
) -> None:
    """Check and write the fetched records below the task's stop, and hand them to the coordinator."""
    if task.stop is not None and records and records[-1].offset >= task.stop:
        records = [r for r in records if r.offset < task.stop]
    if records:
        results.put(check_and_write(registry, task, records, settings, verifier))


def check_and_write(
    registry: Registry | None, task: PartitionTask, records: list[Any], settings: Settings, verifier: Verifier
) -> WrittenBatch:
    """Check every record of one fetched batch (signature, then contract) and write the batch under
    its temporary name."""
    values = [r.value for r in records]
    limit = settings.max_message_bytes
    verdicts = [classify(task.topic, r.value, limit, registry, verifier, r.headers, r.timestamp) for r in records]
    columns: dict[str, list[Any]] = {
        "_offset": [r.offset for r in records],
        "_kafka_ts": [r.timestamp for r in records],
        "_key": [r.key for r in records],
        "_value": [v or b"" for v in values],
        "_status": [v.status for v in verdicts],
        "_error_class": [v.error_class for v in verdicts],
        "_error_message": [v.error_message for v in verdicts],
    }
    folder = lake.partition_dir(settings.raw_dir, task.topic, task.epoch, task.partition)
    pending = lake.write_pending(folder, task.topic, task.epoch, task.partition, columns, datetime.now(UTC))
    dead = [
        DeadLetter(r.offset, r.key, r.value, list(r.headers or []), v)
        for r, v in zip(records, verdicts, strict=True)
        if v.status == lake.DEAD_LETTER
    ]
    return WrittenBatch(task.topic, task.epoch, task.partition, pending, len(records), dead)
