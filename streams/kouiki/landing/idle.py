"""What ``kouiki ingest`` has to land, answered in a fraction of a second before the lander starts.

Most ingest runs find nothing new (the event trigger and the safety-net cron both start runs that
may find their events already landed), and starting the lander costs time: the key ring and the
registry are read and a process is forked per partition. ``look`` costs a metadata round trip and a
fetch round trip per topic with librdkafka (confluent-kafka, about 0.1 s to import) and reads nothing but
file names in the lake. It returns a ``Plan``: each topic's epoch and, per partition, where the lake
resumes and where the log ended when looked at, which the lander then lands up to (so it needs no
look of its own, and a topic with nothing new costs it nothing).

The reports are looked at before the registry: a registration is acknowledged before any report
that refers to it is sent (``kouiki submit``, the gateway), so the registry's end, seen after the
reports' ends, covers the registration of every report up to those ends.

Any doubt — a broker that does not answer in time, a topic without a topic id, an offset out of
range (a lake ahead of the log), any error — gives no plan (None), and the lander then looks for
itself and lands or reports what is there, so the check can delay nothing and hide nothing. Nothing
is idle while a partition of a current epoch is recorded stuck (``kouiki.landing.stuck``): only the
lander re-reports or clears it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kouiki.config import Settings
from kouiki.lake.layout import next_offset, partition_dir
from kouiki.landing import stuck
from kouiki.messaging import clients
from kouiki.messaging.topics import INGEST_TOPICS, REGISTRY_TOPIC

if TYPE_CHECKING:
    from confluent_kafka import Consumer

log = logging.getLogger(__name__)
Key = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True)
class Plan:
    """Each topic's epoch; per partition, where the lake resumes and where the log ended."""

    epochs: dict[str, str]
    starts: dict[Key, int]
    ends: dict[Key, int]

    def behind(self, topic: str) -> list[int]:
        """The partitions of ``topic`` whose log holds events past the lake."""
        return sorted(p for (t, p), end in self.ends.items() if t == topic and end > self.starts[(t, p)])

    def idle(self, settings: Settings) -> bool:
        """Nothing to land and no partition of a current epoch recorded stuck."""
        if any(self.behind(topic) for topic in self.epochs):
            return False
        return not any(self.epochs.get(entry.topic) == entry.epoch for entry in stuck.load(settings))


def look(settings: Settings, topics: Iterable[str] = INGEST_TOPICS, timeout: float = 5.0) -> Plan | None:
    """The plan for ``topics`` as they stand now; None on any doubt (see the module docstring)."""
    from confluent_kafka import TopicCollection
    from confluent_kafka.admin import AdminClient

    common: dict[str, str | int | float | bool] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": "kouiki-idle-check",
        **clients.librdkafka_security(settings),
    }
    names = sorted(topics, key=lambda t: t == REGISTRY_TOPIC)  # the registry last
    admin = AdminClient(common, logger=log)  # held until the answers are in: a collected client cancels them
    try:
        described = {
            name: future.result(timeout) for name, future in admin.describe_topics(TopicCollection(names)).items()
        }
    except Exception as exc:  # noqa: BLE001 - any doubt means: let the lander look
        log.info("idle check: topics not described (%s); running the lander", exc)
        return None
    found = {name: _epoch(described[name].topic_id) for name in names}
    epochs = {name: epoch for name, epoch in found.items() if epoch is not None}
    if len(epochs) < len(names):
        return None
    starts = {
        (name, partition.id): next_offset(partition_dir(settings.raw_dir, name, epochs[name], partition.id))
        for name in names
        for partition in described[name].partitions
    }
    consumer_settings: clients.LibrdkafkaConfig = {
        "auto.offset.reset": "error",  # a lake ahead of the log is the lander's to report
        "fetch.wait.max.ms": 10,
        # the first fetch response is all a look needs: little prefetching of the backlog
        "max.partition.fetch.bytes": 65536,
        "queued.min.messages": 1,
        "fetch.queue.backoff.ms": 0,
    }
    ends: dict[Key, int] = {}
    deadline = time.monotonic() + timeout
    for name in names:  # a consumer per topic: one assigned again waits a second before it fetches
        consumer = clients.reader(settings, "kouiki-idle-check", consumer_settings)
        try:
            seen = _ends(consumer, {k: v for k, v in starts.items() if k[0] == name}, deadline)
        finally:
            consumer.close()
        if seen is None:
            return None
        ends |= seen
    return Plan(epochs, starts, ends)


def has_new_events(settings: Settings, topics: Iterable[str] = INGEST_TOPICS, timeout: float = 5.0) -> bool:
    """True unless every partition of ``topics`` is landed to its end and none is stuck."""
    plan = look(settings, topics, timeout)
    return plan is None or not plan.idle(settings)


def _ends(consumer: Consumer, starts: dict[Key, int], deadline: float) -> dict[Key, int] | None:
    """Where each partition's log ends: the high watermark of the first fetch response that names
    it (or its end-of-partition event); None on an error, or a log that ends before the lake does."""
    from confluent_kafka import KafkaError, TopicPartition

    consumer.assign([TopicPartition(topic, partition, offset) for (topic, partition), offset in starts.items()])
    ends: dict[Key, int] = {}
    while len(ends) < len(starts):
        if time.monotonic() > deadline:
            return None
        message: Any = consumer.poll(0.02)
        if message is not None and message.error() is not None:
            if message.error().code() != KafkaError._PARTITION_EOF:  # noqa: SLF001 - librdkafka's public event code
                log.info("idle check: %s; running the lander", message.error().str())
                return None
            ends[(message.topic(), message.partition())] = int(message.offset())
        for key in starts.keys() - ends.keys():
            _low, high = consumer.get_watermark_offsets(TopicPartition(*key), cached=True)
            if high is not None and high >= 0:
                ends[key] = int(high)
    if any(ends[key] < start for key, start in starts.items()):
        return None  # the lake is ahead of the log: the lander reports it
    return ends


def _epoch(topic_id: object) -> str | None:
    """The topic id as the lake's epoch (32 hex digits, as ``kouiki.messaging.watermarks``); None
    for the all-zero id of a broker without topic ids, which this check leaves to the lander."""
    most = topic_id.get_most_significant_bits() & 0xFFFF_FFFF_FFFF_FFFF  # type: ignore[attr-defined]
    least = topic_id.get_least_significant_bits() & 0xFFFF_FFFF_FFFF_FFFF  # type: ignore[attr-defined]
    if most == least == 0:
        return None
    return f"{most:016x}{least:016x}"
