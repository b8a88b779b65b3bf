"""Kafka clients configured once for the whole platform.

Producing goes through librdkafka (confluent-kafka), whose batching, compression and network I/O
run in its own threads without Python's GIL, so the process producing can spend its CPU on
checking and signing what it sends. The lander, the idle check and the registry reader fetch
with it too (``reader``). Admin and the remaining consumers use kafka-python.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kouiki.config import ConfigError, Settings
from kouiki.messaging.topics import DEADLETTER_TOPIC, TOPIC_PARTITIONS

# Dead letters are copied unchanged, including the oversized ones the lander refuses, so the
# dead-letter topic and its producer accept far larger messages than the platform's limit.
DEADLETTER_MAX_BYTES = 32 * 1024 * 1024


if TYPE_CHECKING:  # kafka-python is imported where used: the producing and landing paths do without it
    import confluent_kafka
    from kafka import KafkaAdminClient, KafkaConsumer


SECURITY_PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")
# One set of settings, named as each client library names them.
LIBRDKAFKA_NAMES = {
    "protocol": "security.protocol",
    "mechanism": "sasl.mechanism",
    "username": "sasl.username",
    "password": "sasl.password",
    "ca_file": "ssl.ca.location",
}
KAFKA_PYTHON_NAMES = {
    "protocol": "security_protocol",
    "mechanism": "sasl_mechanism",
    "username": "sasl_plain_username",
    "password": "sasl_plain_password",
    "ca_file": "ssl_cafile",
}


def librdkafka_security(settings: Settings) -> dict[str, str]:
    """How a librdkafka client (and the Airflow Kafka provider, which hands its extra to librdkafka)
    authenticates: nothing on the local broker, SASL/SCRAM with this process's principal in production."""
    return {LIBRDKAFKA_NAMES[name]: value for name, value in _security(settings).items()}


def kafka_python_security(settings: Settings) -> dict[str, str]:
    """The same as ``librdkafka_security`` in kafka-python's keyword arguments."""
    return {KAFKA_PYTHON_NAMES[name]: value for name, value in _security(settings).items()}


def _security(settings: Settings) -> dict[str, str]:
    protocol = _protocol(settings)
    if protocol == "PLAINTEXT":
        return {}
    found = {
        "protocol": protocol,
        "mechanism": settings.kafka_sasl_mechanism,
        "username": settings.kafka_username,
        "password": settings.kafka_password,
        "ca_file": settings.kafka_ca_file,
    }
    return {name: value for name, value in found.items() if value}


def _protocol(settings: Settings) -> str:
    protocol = settings.kafka_security_protocol.upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise ConfigError(
            f"the Kafka security protocol {protocol!r} (KOUIKI_KAFKA_SECURITY_PROTOCOL) is not one of "
            + ", ".join(SECURITY_PROTOCOLS)
        )
    if protocol != "PLAINTEXT" and not (settings.kafka_username and settings.kafka_password):
        raise ConfigError(f"{protocol} needs KOUIKI_KAFKA_USERNAME and KOUIKI_KAFKA_PASSWORD")
    return protocol


class DeliveryError(RuntimeError):
    """A message the broker did not acknowledge (refused, or not answered in time)."""


class Sent:
    """One produced message: its place in the log once acknowledged (``get``)."""

    __slots__ = ("topic", "partition", "offset", "error")

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.partition = -1
        self.offset = -1
        self.error: str | None = "not acknowledged yet"

    def _done(self, error: Any, message: Any) -> None:  # librdkafka's delivery report, from poll()/flush()
        if error is None:
            self.partition, self.offset, self.error = message.partition(), message.offset(), None
        else:
            self.error = str(error)

    def get(self) -> Sent:
        """This message, acknowledged; DeliveryError when it was not (call after ``flush``)."""
        if self.error is not None:
            raise DeliveryError(f"{self.topic}: {self.error}")
        return self


POLL_EVERY = 1000  # sends between two servings of delivery reports (each costs a call into librdkafka)


class Producer:
    """The platform's producer (librdkafka): acks=all with idempotence, stated so nobody weakens
    them by accident; the partitioner is Kafka's own (murmur2 of the key, as the Java client and
    kafka-python), so a key lands on the same partition whoever sends it; the size limit is the
    platform's message limit."""

    def __init__(self, settings: Settings, timeout: float = 60.0, **overrides: Any) -> None:
        from confluent_kafka import Producer as Librdkafka

        security = librdkafka_security(settings)  # an unusable setting is refused before anything connects
        if not broker_answers(settings):  # librdkafka would keep retrying until each message times out
            raise DeliveryError(
                f"ブローカー {settings.bootstrap_servers} に接続できません。何も送信していません"
                f" / the broker at {settings.bootstrap_servers} does not answer; nothing was sent"
            )

        config: dict[str, Any] = {
            "bootstrap.servers": settings.bootstrap_servers,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "partitioner": "murmur2_random",
            "message.max.bytes": settings.max_message_bytes + 64 * 1024,
            "message.timeout.ms": int(timeout * 1000),  # then the delivery report says it failed
            # connect to every broker at once: the producer id (idempotence) is asked of a broker
            # already connected, else librdkafka retries on a half-second timer
            "enable.sparse.connections": False,
            "client.id": "kouiki",
            **security,
        }
        config.update(overrides)
        self._producer: confluent_kafka.Producer = Librdkafka(config)
        self._unpolled = 0

    def send(
        self,
        topic: str,
        *,
        value: bytes | None,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes | None]] | None = None,
    ) -> Sent:
        sent = Sent(topic)
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=list(headers or ()), on_delivery=sent._done)
                break
            except BufferError:  # librdkafka's local queue is full: let it send some first
                self._producer.poll(0.05)
        self._unpolled += 1
        if self._unpolled >= POLL_EVERY:  # serve the delivery reports that have come in
            self._producer.poll(0)
            self._unpolled = 0
        return sent

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until every message sent is acknowledged or has failed (see ``Sent.get``)."""
        if self._producer.flush(timeout) > 0:
            raise DeliveryError(f"messages still unacknowledged after {timeout:.0f} s")

    def close(self, timeout: float = 60.0) -> None:
        """Deliver what is queued; what cannot be delivered in time fails its ``Sent``."""
        self._producer.flush(timeout)


def producer(settings: Settings, **overrides: Any) -> Producer:
    """The platform's producer; ``overrides`` are librdkafka settings."""
    return Producer(settings, **overrides)


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
        **kafka_python_security(settings),
    }
    config.update(overrides)
    from kafka import KafkaConsumer

    return KafkaConsumer(**config)


LibrdkafkaConfig = Mapping[str, str | int | float | bool]


def reader(settings: Settings, client_id: str, config: LibrdkafkaConfig) -> confluent_kafka.Consumer:
    """A librdkafka consumer for partitions assigned by hand, with the end-of-partition event on;
    ``config`` adds to or overrides librdkafka settings. It never joins its group (librdkafka
    requires a group id) and never commits: every reader keeps its position elsewhere (the lake)."""
    from confluent_kafka import Consumer

    base: dict[str, str | int | float | bool] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": client_id,
        "group.id": client_id,
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        **librdkafka_security(settings),
    }
    return Consumer(base | dict(config), logger=logging.getLogger(f"kouiki.{client_id}"))


def next_batch(consumer: confluent_kafka.Consumer, max_records: int, timeout: float) -> list[confluent_kafka.Message]:
    """Up to ``max_records`` messages and events, returned as soon as there is one, or [] after
    ``timeout``. ``consume`` alone returns only at ``max_records`` or at its timeout, so a few records
    would wait the whole timeout (half a second of every small landing)."""
    first = consumer.poll(timeout=timeout)
    if first is None:
        return []
    return [first, *consumer.consume(num_messages=max_records - 1, timeout=0)]


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
    from kafka import KafkaAdminClient

    return KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, client_id="kouiki-admin", **kafka_python_security(settings)
    )


def ensure_topics(settings: Settings) -> list[str]:
    """Create the platform's topics that do not exist yet; returns the names created."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

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
