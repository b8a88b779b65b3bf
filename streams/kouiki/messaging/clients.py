"""Kafka clients configured once for the whole platform (kafka-python)."""

from __future__ import annotations

import socket
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from kouiki.config import Settings
from kouiki.messaging.topics import DEADLETTER_TOPIC, TOPIC_PARTITIONS

# Dead letters are copied unchanged, including the oversized ones the lander refuses, so the
# dead-letter topic and its producer accept far larger messages than the platform's limit.
DEADLETTER_MAX_BYTES = 32 * 1024 * 1024


def producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    """acks=all with idempotence (kafka-python 3 defaults, stated so nobody weakens them by accident);
    the client-side size limit is the platform's message limit."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "batch_size": 262144,
        "max_request_size": settings.max_message_bytes + 64 * 1024,
        "client_id": "kouiki",
    }
    config.update(overrides)
    return KafkaProducer(**config)


def consumer(settings: Settings, **overrides: Any) -> KafkaConsumer:
    """A group-less consumer: the lander assigns partitions itself and keeps its position in the lake,
    so no group join (slow on the local broker) and no offset commit is needed."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "none",  # a position beyond the log (a reset broker) must surface, not be skipped
        "max_partition_fetch_bytes": 4 * 1024 * 1024,
        "fetch_max_wait_ms": 200,
        "client_id": "kouiki-lander",
    }
    config.update(overrides)
    return KafkaConsumer(**config)


def broker_answers(settings: Settings, timeout: float = 1.0) -> bool:
    """Whether the first bootstrap server accepts a TCP connection: a cheap probe before creating a
    client, which would otherwise retry its bootstrap for many seconds when no broker is there."""
    host, port = settings.host_port
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def admin(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="kouiki-admin")


def ensure_topics(settings: Settings) -> list[str]:
    """Create the platform's topics that do not exist yet; returns the names created."""
    client = admin(settings)
    try:
        existing = set(client.list_topics())
        missing = [
            NewTopic(
                name,
                partitions,
                1,
                topic_configs={"max.message.bytes": str(DEADLETTER_MAX_BYTES)} if name == DEADLETTER_TOPIC else {},
            )
            for name, partitions in TOPIC_PARTITIONS.items()
            if name not in existing
        ]
        created = []
        for topic in missing:
            try:
                client.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        client.close()
