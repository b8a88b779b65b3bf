"""The registrations currently on the registry topic, for checking reports before they are sent."""

from __future__ import annotations

from kafka import TopicPartition

from kouiki.config import Settings
from kouiki.contract.rules import Registry
from kouiki.messaging import clients
from kouiki.messaging.topics import REGISTRY_TOPIC
from kouiki.messaging.watermarks import read_to_end


def from_topic(settings: Settings, registry: Registry | None = None, timeout: float = 30.0) -> Registry:
    """``registry`` (or a new one) with every valid registration on the topic added, in submission order."""
    registry = registry if registry is not None else Registry()
    consumer = clients.consumer(settings, client_id="kouiki-registry-reader")
    try:
        numbers = sorted(consumer.partitions_for_topic(REGISTRY_TOPIC) or [])
        records = read_to_end(consumer, [TopicPartition(REGISTRY_TOPIC, p) for p in numbers], timeout)
    finally:
        consumer.close()
    registry.add_valid_in_order(r.value for r in records if r.value is not None)
    return registry
