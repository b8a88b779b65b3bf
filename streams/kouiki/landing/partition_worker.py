"""A partition process of the lander: read, check and write every fetched batch of its partitions
under a temporary name, and hand each batch to the coordinator (see ``coordinator``)."""

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
    partitions: list[int]


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


Message = WrittenBatch | Done | Failed


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
        consumer = clients.consumer(settings)
        verifier = Verifier(keyring)
        by_partition = {TopicPartition(t.topic, t.partition): t for t in tasks}
        consumer.assign(list(by_partition))
        for tp, task in by_partition.items():
            consumer.seek(tp, task.start)
        pending = set(by_partition)
        while pending:
            if time.monotonic() > tasks[0].deadline:
                raise TimeoutError(f"landing did not reach the end of {sorted(map(str, pending))}")
            for tp, records in poll(consumer, settings.lander_batch).items():
                task = by_partition[tp]
                if task.stop is not None and records and records[-1].offset >= task.stop:
                    records = [r for r in records if r.offset < task.stop]
                if records:
                    results.put(check_and_write(registry, task, records, settings, verifier))
            pending = {tp for tp in pending if not caught_up(consumer, tp, by_partition[tp].stop)}
        results.put(Done([t.partition for t in tasks]))
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
