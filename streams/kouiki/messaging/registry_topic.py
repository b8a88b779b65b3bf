"""The registrations currently on the registry topic, for checking reports before they are sent
and for pre-filling a consortium's template."""

from __future__ import annotations

import logging
import time

from kouiki.config import Settings
from kouiki.contract.rules import Registry
from kouiki.messaging import clients
from kouiki.messaging.topics import REGISTRY_TOPIC

log = logging.getLogger(__name__)


def registry_messages(settings: Settings, timeout: float = 30.0) -> list[tuple[bytes | None, bytes]]:
    """Every message on the registry topic as (key, value), from the beginning to the end of each
    partition (librdkafka's end-of-partition event); what arrived by ``timeout`` when an end is not
    reached by then, and nothing when the broker does not answer (a warning is logged). Messages
    without a value are left out."""
    from confluent_kafka import KafkaError, KafkaException, TopicPartition

    consumer = clients.reader(
        settings,
        "kouiki-registry-reader",
        {
            # from offset 0, or the log's start where retention removed that: an offset reset is
            # a plain fetch, while OFFSET_BEGINNING is resolved by a lookup first (half a second more)
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 10,
        },
    )
    messages: list[tuple[bytes | None, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        try:
            topic = consumer.list_topics(REGISTRY_TOPIC, timeout=timeout).topics.get(REGISTRY_TOPIC)
        except KafkaException as exc:
            log.warning("registry topic not read: %s", exc)
            return messages
        partitions = sorted(topic.partitions) if topic is not None and topic.error is None else []
        consumer.assign([TopicPartition(REGISTRY_TOPIC, p, 0) for p in partitions])
        at_end: set[int | None] = set()
        while len(at_end) < len(partitions) and time.monotonic() < deadline:
            for message in clients.next_batch(consumer, 10_000, timeout=0.2):
                error = message.error()
                if error is None:
                    value = message.value()
                    if value is not None:
                        messages.append((message.key(), value))
                elif error.code() == KafkaError._PARTITION_EOF:  # noqa: SLF001 - librdkafka's public event code
                    at_end.add(message.partition())
                else:
                    log.warning("registry topic: %s", error.str())
    finally:
        consumer.close()
    return messages


def from_topic(settings: Settings, registry: Registry | None = None, timeout: float = 30.0) -> Registry:
    """``registry`` (or a new one) with every valid registration on the topic added, in submission order."""
    registry = registry if registry is not None else Registry()
    registry.add_valid_in_order(value for _key, value in registry_messages(settings, timeout))
    return registry
