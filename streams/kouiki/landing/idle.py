"""Whether ``kouiki ingest`` has anything to land, answered in a fraction of a second.

Most ingest runs find nothing new (the event trigger and the safety-net cron both start runs that
may find their events already landed), and the lander's own start-up costs seconds: kafka-python
alone takes about 0.4 s to import, the key ring and the registry are read, and a process is forked
per partition. This check costs one metadata and one fetch round trip with librdkafka
(confluent-kafka, about 0.1 s to import) and reads nothing but file names in the lake.

It answers "nothing new" only when every partition of every topic positively reports its end
(``partition EOF``) at exactly the offset where the lake of the topic's current epoch resumes, and
no partition of a current epoch is recorded stuck (``kouiki.landing.stuck``). Any
doubt — a broker that does not answer in time, a topic without a topic id, an offset out of range,
any error — answers "run the lander", which then lands or reports what is there, so the check can
delay nothing and hide nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from kouiki.config import Settings
from kouiki.lake.layout import next_offset, partition_dir
from kouiki.landing import stuck
from kouiki.messaging.topics import INGEST_TOPICS

log = logging.getLogger(__name__)


def has_new_events(settings: Settings, topics: Iterable[str] = INGEST_TOPICS, timeout: float = 5.0) -> bool:
    """True unless every partition of ``topics`` is landed to its end (see the module docstring)."""
    from confluent_kafka import Consumer, KafkaError, TopicCollection, TopicPartition
    from confluent_kafka.admin import AdminClient

    common: dict[str, str | int | float | bool] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": "kouiki-idle-check",
    }
    names = list(topics)
    admin = AdminClient(common, logger=log)  # held until the answers are in: a collected client cancels them
    try:
        described = {
            name: future.result(timeout) for name, future in admin.describe_topics(TopicCollection(names)).items()
        }
    except Exception as exc:  # noqa: BLE001 - any doubt means: let the lander look
        log.info("idle check: topics not described (%s); running the lander", exc)
        return True
    found = {name: _epoch(described[name].topic_id) for name in names}
    epochs = {name: epoch for name, epoch in found.items() if epoch is not None}
    if len(epochs) < len(names):
        return True
    if any(epochs.get(entry.topic) == entry.epoch for entry in stuck.load(settings)):
        return True  # only the lander re-reports or clears a stuck partition (after `kouiki quarantine`)
    assignment = []
    for name in names:
        epoch = epochs[name]
        for partition in described[name].partitions:
            folder = partition_dir(settings.raw_dir, name, epoch, partition.id)
            assignment.append(TopicPartition(name, partition.id, next_offset(folder)))

    consumer = Consumer(
        common
        | {
            "group.id": "kouiki-idle-check",  # required by librdkafka; never joined (assign only), never committed
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "error",  # a lake ahead of the log is the lander's to report
            "fetch.wait.max.ms": 10,
        },
        logger=log,
    )
    try:
        consumer.assign(assignment)
        at_end: set[tuple[str | None, int | None]] = set()
        deadline = time.monotonic() + timeout
        while len(at_end) < len(assignment):
            if time.monotonic() > deadline:
                return True
            message = consumer.poll(0.05)
            if message is None:
                continue
            error = message.error()
            if error is None or error.code() != KafkaError._PARTITION_EOF:  # noqa: SLF001 - librdkafka's public code
                return True  # a record past the lake's end, or an error
            at_end.add((message.topic(), message.partition()))
        return False
    finally:
        consumer.close()


def _epoch(topic_id: object) -> str | None:
    """The topic id as the lake's epoch (32 hex digits, as ``kouiki.messaging.watermarks``); None
    for the all-zero id of a broker without topic ids, which this check leaves to the lander."""
    most = topic_id.get_most_significant_bits() & 0xFFFF_FFFF_FFFF_FFFF  # type: ignore[attr-defined]
    least = topic_id.get_least_significant_bits() & 0xFFFF_FFFF_FFFF_FFFF  # type: ignore[attr-defined]
    if most == least == 0:
        return None
    return f"{most:016x}{least:016x}"
