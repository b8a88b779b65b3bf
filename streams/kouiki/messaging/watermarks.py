"""Where a topic's log ends, and which incarnation of it this is.

High watermarks come from fetched data rather than from ListOffsets, because the local broker
(Tansu) answers end-offset lookups wrongly; on Apache Kafka both agree, so this is correct there too.
This module is the one place that knows.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import OffsetOutOfRangeError

NO_TOPIC_ID = "0"  # the epoch of a topic whose broker gives no topic id (Kafka before 2.8)


def topic_epochs(admin: KafkaAdminClient, topics: Iterable[str]) -> dict[str, str]:
    """The epoch of each topic: its topic id (KIP-516) as 32 hex digits. A recreated topic, or a
    restarted memory broker, gets a new id, so its offsets starting again at 0 land in a new folder."""
    epochs = {}
    for described in admin.describe_topics(list(topics)):
        topic_id = described.get("topic_id")
        epochs[str(described["name"])] = uuid.UUID(str(topic_id)).hex if topic_id else NO_TOPIC_ID
    return epochs


def high_watermarks(
    consumer: KafkaConsumer, partitions: list[TopicPartition], timeout: float = 10.0
) -> dict[TopicPartition, int]:
    """The high watermark of every assigned partition, from a fetch of at most one record each
    (the consumer's positions are left where the fetch moved them).

    A partition whose records cannot be decoded still has its high watermark, which the broker sends
    before the records: on a decoding error the partitions already known are paused (the failing one
    among them, so it cannot block the others) and the rest polled on; the lander finds out which
    partition is unreadable itself (``partition_worker.PartitionReader``)."""
    deadline = time.monotonic() + timeout
    try:
        while any(consumer.highwater(tp) is None for tp in partitions):
            if time.monotonic() > deadline:
                missing = sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions if consumer.highwater(tp) is None)
                raise TimeoutError(f"no high watermark for {', '.join(missing)} within {timeout:.0f} s")
            try:
                consumer.poll(timeout_ms=200, max_records=1)
            except OffsetOutOfRangeError:
                raise
            except Exception:  # noqa: BLE001 - an unreadable batch; its partition's mark is known by now
                consumer.pause(*(tp for tp in partitions if consumer.highwater(tp) is not None))
    finally:
        consumer.resume(*partitions)
    return {tp: int(consumer.highwater(tp)) for tp in partitions}
