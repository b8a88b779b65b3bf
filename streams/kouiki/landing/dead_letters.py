"""Which messages may be landed, and what the dead-letter topic receives for those that may not.

A refused message is produced unchanged to the dead-letter topic with Kafka Connect style error
headers (``__connect.errors.*``), and kept in the lake with ``_status = 'dead_letter'``.
"""

from __future__ import annotations

from dataclasses import dataclass

from kouiki.contract.check import check_bytes
from kouiki.contract.rules import Registry
from kouiki.lake.files import DEAD_LETTER, LANDED
from kouiki.messaging.topics import REGISTRY_TOPIC, topic_for


@dataclass(frozen=True)
class Verdict:
    """Whether one message lands; for a dead letter, the kind of failure (``error_class``: NotUtf8,
    InvalidJson, SchemaViolation, RuleViolation, UnknownCode, WrongTopic, MessageTooLarge,
    EmptyMessage) and the reasons."""

    status: str
    error_class: str | None = None
    error_message: str | None = None


_LANDED = Verdict(LANDED)


def classify(topic: str, value: bytes | None, max_bytes: int, registry: Registry | None = None) -> Verdict:
    """Decide whether one message may be landed; a valid registration is added to ``registry``."""
    if value is None:
        return Verdict(DEAD_LETTER, "EmptyMessage", "message has no value")
    if len(value) > max_bytes:
        return Verdict(DEAD_LETTER, "MessageTooLarge", f"{len(value):,} bytes exceeds the {max_bytes:,} limit")
    checked = check_bytes(value, registry)
    if topic_for(checked.kind) != topic:
        return Verdict(DEAD_LETTER, "WrongTopic", f"a {checked.kind} document does not belong on {topic}")
    if checked.violations:
        return Verdict(DEAD_LETTER, checked.error_class, "; ".join(map(str, checked.violations))[:2000])
    if registry is not None and topic == REGISTRY_TOPIC and checked.doc is not None:
        registry.add(checked.doc)
    return _LANDED


@dataclass(frozen=True)
class DeadLetter:
    """A message that failed the checks, with what the dead-letter topic needs of it."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    verdict: Verdict


def dead_letter_headers(topic: str, partition: int, dead: DeadLetter) -> list[tuple[str, bytes]]:
    """Kafka Connect's error headers first, then the message's own headers (minus stale error headers)."""
    return [
        ("__connect.errors.topic", topic.encode()),
        ("__connect.errors.partition", str(partition).encode()),
        ("__connect.errors.offset", str(dead.offset).encode()),
        ("__connect.errors.exception.class.name", (dead.verdict.error_class or "").encode()),
        ("__connect.errors.exception.message", (dead.verdict.error_message or "").encode()),
        *[(k, v) for k, v in dead.headers if not k.startswith("__connect.errors.")],
    ]
