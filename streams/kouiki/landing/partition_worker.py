"""A partition process of the lander: read, check and write every fetched batch of its partitions
under a temporary name, and hand each batch to the coordinator (see ``coordinator``).

Records are fetched with librdkafka (confluent-kafka): it decodes record batches and decompresses
every codec in threads of its own, outside Python's GIL, so the process's CPU goes to checking. A
partition that cannot be read stops only itself. librdkafka reports a batch failing its CRC
(``check.crcs``), an unknown codec or a failed decompression as an error event of that partition
at the batch's offset, and then reads on past it; the lander never does: the partition is reported
``Stuck`` at its position (the first offset not landed), nothing of it after the error is
written, and it is paused, while the other partitions go on. A batch librdkafka fetches again and
again without yielding a record or an error (bytes it cannot parse) is reported the same way after
``NO_PROGRESS_SECONDS``. Only ``kouiki quarantine`` lets landing resume past such a batch."""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import pickle
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kouiki.config import Settings
from kouiki.contract.rules import Registry
from kouiki.identity.keys import KeyRing
from kouiki.lake import files as lake
from kouiki.landing.dead_letters import DeadLetter, Verifier, classify
from kouiki.messaging import clients

if TYPE_CHECKING:
    from confluent_kafka import Consumer, KafkaError
    from confluent_kafka import Message as Record

log = logging.getLogger(__name__)
NO_PROGRESS_SECONDS = 10.0  # a partition behind its end that yields neither records nor an error


class LogResetError(RuntimeError):
    """The broker's log is behind what was landed for the same topic id: refuse to guess."""

    @classmethod
    def of(cls, reason: object) -> LogResetError:
        return cls(
            f"{reason}: the broker log is shorter than the lake for the same topic id; "
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
Key = tuple[str, int]  # (topic, partition)


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
    reader: PartitionReader | None = None
    try:
        verifier = Verifier(keyring)
        reader = PartitionReader(settings, tasks)
        while reader.pending:
            if time.monotonic() > tasks[0].deadline:
                raise TimeoutError(f"landing did not reach the end of {sorted(map(str, reader.pending))}")
            for task, records in reader.read(settings.lander_batch):
                results.put(check_and_write(registry, task, records, settings, verifier))
            for stuck in reader.stuck_now():
                results.put(stuck)
        results.put(Done([t.partition for t in tasks if (t.topic, t.partition) not in reader.stuck]))
    except Exception as exc:  # noqa: BLE001 - every failure is reported to the coordinator, which raises it
        results.put(Failed.of(exc))
    finally:
        if reader is not None:
            reader.close()


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


class PartitionReader:
    """The records of some partitions in offset order, each up to its task's stop (or else its end,
    which librdkafka's end-of-partition event gives), with the partitions that cannot be read set
    aside (``stuck_now``)."""

    def __init__(self, settings: Settings, tasks: list[PartitionTask]) -> None:
        from confluent_kafka import TopicPartition

        self.tasks: dict[Key, PartitionTask] = {(t.topic, t.partition): t for t in tasks}
        self.position: dict[Key, int] = {key: t.start for key, t in self.tasks.items()}
        self.pending = {key for key, t in self.tasks.items() if t.stop is None or t.start < t.stop}
        self.stuck: set[Key] = set()
        self._end: dict[Key, int] = {}  # where the partition ended when last seen at its end
        self._found: list[Stuck] = []
        self._moved = {key: time.monotonic() for key in self.tasks}  # when its position last moved
        self._partition = TopicPartition
        self.consumer: Consumer = clients.reader(
            settings,
            "kouiki-lander",
            {
                "auto.offset.reset": "error",  # a position beyond the log (a reset broker) must surface
                "check.crcs": True,
                "isolation.level": "read_uncommitted",  # every record in the log lands, transactional or not
                "fetch.wait.max.ms": 100,
                "max.partition.fetch.bytes": 4 * 1024 * 1024,
            },
        )
        self.consumer.assign([TopicPartition(topic, p, self.position[(topic, p)]) for topic, p in self.pending])

    def close(self) -> None:
        self.consumer.close()

    def read(self, max_records: int) -> list[tuple[PartitionTask, list[Record]]]:
        """The next records fetched, grouped by partition and cut at each task's stop; afterwards
        ``pending`` holds the partitions not at their stop or end yet."""
        fetched: dict[Key, list[Record]] = {}
        for record in clients.next_batch(self.consumer, max_records, timeout=0.5):
            key = (record.topic() or "", record.partition() or 0)
            if key not in self.pending:
                continue  # finished, or set aside: nothing after that is landed
            error = record.error()
            if error is None:
                stop = self.tasks[key].stop
                if stop is None or (record.offset() or 0) < stop:
                    fetched.setdefault(key, []).append(record)
            else:
                self._on_error(key, error, record.offset(), fetched)
        now = time.monotonic()
        out = []
        for key, records in fetched.items():
            self.position[key] = (records[-1].offset() or 0) + 1
            self._moved[key] = now
            out.append((self.tasks[key], records))
        for key in list(self.pending):
            stop, at_end = self.tasks[key].stop, self._end.get(key)
            end = stop if stop is not None else at_end
            # at its end, a partition has delivered every record below it, even where the last
            # offsets hold no record (a transaction's commit marker)
            if end is not None and (self.position[key] >= end or (at_end is not None and at_end >= end)):
                self.pending.discard(key)
                self.consumer.pause([self._partition(key[0], key[1])])  # nothing past its stop is fetched
            elif now - self._moved[key] > NO_PROGRESS_SECONDS and self._behind(key):
                self._set_aside(
                    key,
                    "NoProgress",
                    f"records from offset {self.position[key]} on were fetched for {NO_PROGRESS_SECONDS:.0f} s"
                    " and none could be read",
                )
        return out

    def stuck_now(self) -> list[Stuck]:
        """The partitions set aside since the last call."""
        found, self._found = self._found, []
        return found

    def _behind(self, key: Key) -> bool:
        """Whether the broker holds records past the position (its high watermark, as last fetched)."""
        _low, high = self.consumer.get_watermark_offsets(self._partition(key[0], key[1]), cached=True)
        return bool(high is not None and high > self.position[key])

    def _on_error(self, key: Key, error: KafkaError, offset: int | None, fetched: dict[Key, list[Record]]) -> None:
        from confluent_kafka import KafkaError

        code = error.code()
        if code == KafkaError._PARTITION_EOF:  # noqa: SLF001 - librdkafka's public event codes
            self._end[key] = offset or 0
        elif code in (KafkaError.OFFSET_OUT_OF_RANGE, KafkaError._AUTO_OFFSET_RESET):  # noqa: SLF001
            raise LogResetError.of(f"{key[0]}[{key[1]}]: {error.str()}")
        elif code in UNREADABLE:
            # the records before the error are landed; from the error on, nothing
            at = offset if offset is not None and offset >= 0 else None
            good = [r for r in fetched.pop(key, []) if at is not None and (r.offset() or 0) < at]
            if good:
                fetched[key] = good
                self.position[key] = (good[-1].offset() or 0) + 1
            self._set_aside(key, error.name().lstrip("_"), error.str())
        else:
            log.warning("lander: %s", error.str())  # a broker or network error: librdkafka retries it

    def _set_aside(self, key: Key, error_class: str, message: str) -> None:
        task = self.tasks[key]
        self._found.append(
            Stuck(task.topic, task.epoch, task.partition, self.position[key], error_class, message[:2000])
        )
        self.stuck.add(key)
        self.pending.discard(key)
        self.consumer.pause([self._partition(key[0], key[1])])


def _unreadable() -> frozenset[int]:
    from confluent_kafka import KafkaError

    return frozenset(
        {
            KafkaError._BAD_MSG,  # noqa: SLF001 - a batch failing its CRC, or undecodable
            KafkaError._BAD_COMPRESSION,  # noqa: SLF001 - a failed decompression
            KafkaError._NOT_IMPLEMENTED,  # noqa: SLF001 - an unknown codec
            KafkaError.INVALID_MSG,  # the broker's CORRUPT_MESSAGE
            KafkaError.UNSUPPORTED_COMPRESSION_TYPE,
        }
    )


UNREADABLE = _unreadable()


def check_and_write(
    registry: Registry | None, task: PartitionTask, records: list[Record], settings: Settings, verifier: Verifier
) -> WrittenBatch:
    """Check every record of one fetched batch (signature, then contract) and write the batch under
    its temporary name."""
    offsets: list[int] = [r.offset() for r in records]  # type: ignore[misc] # set on every fetched record
    timestamps = [r.timestamp()[1] for r in records]
    keys = [r.key() for r in records]
    values = [r.value() for r in records]
    headers: list[list[tuple[str, bytes | None]]] = [r.headers() or [] for r in records]  # type: ignore[misc]
    limit = settings.max_message_bytes
    verdicts = [
        classify(task.topic, value, limit, registry, verifier, header, timestamp)
        for value, header, timestamp in zip(values, headers, timestamps, strict=True)
    ]
    columns: dict[str, list[Any]] = {
        "_offset": offsets,
        "_kafka_ts": timestamps,
        "_key": keys,
        "_value": [v or b"" for v in values],
        "_status": [v.status for v in verdicts],
        "_error_class": [v.error_class for v in verdicts],
        "_error_message": [v.error_message for v in verdicts],
    }
    folder = lake.partition_dir(settings.raw_dir, task.topic, task.epoch, task.partition)
    pending = lake.write_pending(folder, task.topic, task.epoch, task.partition, columns, datetime.now(UTC))
    dead = [
        DeadLetter(offset, key, value, header, verdict)
        for offset, key, value, header, verdict in zip(offsets, keys, values, headers, verdicts, strict=True)
        if verdict.status == lake.DEAD_LETTER
    ]
    return WrittenBatch(task.topic, task.epoch, task.partition, pending, len(records), dead)
