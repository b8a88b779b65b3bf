"""Events injected the way any other Kafka client would send them: a plain kafka-python producer,
past Kouiki's own (which checks and signs what it sends), with the settings a test asks for."""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer

from kouiki.config import Settings


def raw_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    config: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "acks": "all",
        "max_request_size": settings.max_message_bytes + 64 * 1024,
        "client_id": "test-raw-producer",
    }
    return KafkaProducer(**(config | overrides))
