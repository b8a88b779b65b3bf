"""Which messages may be landed, and what the dead-letter topic receives for those that may not.

A refused message is produced unchanged to the dead-letter topic with Kafka Connect style error
headers (``__connect.errors.*``), and kept in the lake with ``_status = 'dead_letter'``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from kouiki.contract.check import check_bytes
from kouiki.contract.rules import Registry
from kouiki.contract.signature import KEY_ID_HEADER, PREFIX, SIGNATURE_HEADER, header_values
from kouiki.identity.keys import BAD_SIGNATURE, REVOKED_KEY, UNKNOWN_KEY, UNSIGNED, KeyRing, SigningKey
from kouiki.lake.files import DEAD_LETTER, LANDED
from kouiki.messaging.topics import REGISTRY_TOPIC, topic_for


@dataclass(frozen=True)
class Verdict:
    """Whether one message lands; for a dead letter, the kind of failure (``error_class``: NotUtf8,
    InvalidJson, SchemaViolation, RuleViolation, UnknownCode, WrongTopic, MessageTooLarge,
    EmptyMessage, or a signature's: unsigned, unknown_key, revoked_key, bad_signature,
    not_authorized) and the reasons."""

    status: str
    error_class: str | None = None
    error_message: str | None = None


_LANDED = Verdict(LANDED)
PREFIX_BYTES = PREFIX.encode("ascii")


def classify(
    topic: str,
    value: bytes | None,
    max_bytes: int,
    registry: Registry | None = None,
    verifier: Verifier | None = None,
    headers: Iterable[tuple[str, bytes | None]] | None = None,
    timestamp_ms: int = 0,
) -> Verdict:
    """Decide whether one message may be landed; a valid registration is added to ``registry``.

    With ``verifier`` (the lander always passes one) the message must be signed (``headers``) by a
    key of its key ring that was active at ``timestamp_ms`` (Kafka CreateTime) and may write the
    document. Cheap refusals come first: size, the headers, the key, its dates, then the HMAC over
    the value, then the contract and the signer's authority over the decoded document."""
    if value is None:
        return Verdict(DEAD_LETTER, "EmptyMessage", "message has no value")
    if len(value) > max_bytes:
        return Verdict(DEAD_LETTER, "MessageTooLarge", f"{len(value):,} bytes exceeds the {max_bytes:,} limit")
    signer: SigningKey | None = None
    if verifier is not None:
        signer_or_refusal = verifier.verify(value, headers, timestamp_ms)
        if isinstance(signer_or_refusal, Verdict):
            return signer_or_refusal
        signer = signer_or_refusal
    checked = check_bytes(value, registry, signer)
    if topic_for(checked.kind) != topic:
        return Verdict(DEAD_LETTER, "WrongTopic", f"a {checked.kind} document does not belong on {topic}")
    if checked.violations:
        return Verdict(DEAD_LETTER, checked.error_class, "; ".join(map(str, checked.violations))[:2000])
    if registry is not None and topic == REGISTRY_TOPIC and checked.doc is not None:
        registry.add(checked.doc)
    return _LANDED


class Verifier:
    """Checks signatures against a key ring: ``contract.signature.matches`` and
    ``SigningKey.active_at``, with each key's HMAC state and dates prepared once, not per message."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keys = {
            key_id: (
                key,
                hmac.new(key.secret.encode("utf-8"), digestmod=hashlib.sha256),
                key.created_at.timestamp() * 1000,
                key.revoked_at.timestamp() * 1000 if key.revoked_at is not None else math.inf,
            )
            for key_id, key in keyring.items()
        }

    def verify(
        self, value: bytes, headers: Iterable[tuple[str, bytes | None]] | None, timestamp_ms: int
    ) -> SigningKey | Verdict:
        """The key that signed ``value``, or the dead-letter verdict saying why there is none."""
        key_id, sig = header_values(headers)
        if key_id is None or sig is None:
            missing = " and ".join(h for h, v in ((KEY_ID_HEADER, key_id), (SIGNATURE_HEADER, sig)) if v is None)
            return Verdict(DEAD_LETTER, UNSIGNED, f"the event is not signed: no {missing} header")
        entry = self._keys.get(key_id)
        if entry is None:
            return Verdict(DEAD_LETTER, UNKNOWN_KEY, f"key {key_id[:100]!r} is not a known signing key")
        key, prepared, created_ms, revoked_ms = entry
        if not created_ms <= timestamp_ms < revoked_ms:  # key.active_at(the record's time), in ms
            produced = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
            state = f"revoked at {key.revoked_at.isoformat()}" if key.revoked_at else f"created at {key.created_at}"
            return Verdict(
                DEAD_LETTER,
                REVOKED_KEY,
                f"key {key_id} was not active when the event was produced ({produced}): {state}",
            )
        mac = prepared.copy()
        mac.update(value)
        if not hmac.compare_digest(sig, PREFIX_BYTES + mac.hexdigest().encode("ascii")):  # signature.matches
            return Verdict(
                DEAD_LETTER, BAD_SIGNATURE, f"the kouiki-signature is not the value's signature with key {key_id}"
            )
        return key


@dataclass(frozen=True)
class DeadLetter:
    """A message that failed the checks, with what the dead-letter topic needs of it."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    verdict: Verdict


def dead_letter_headers(topic: str, partition: int, dead: DeadLetter) -> list[tuple[str, bytes | None]]:
    """Kafka Connect's error headers first, then the message's own headers (minus stale error headers)."""
    return [
        ("__connect.errors.topic", topic.encode()),
        ("__connect.errors.partition", str(partition).encode()),
        ("__connect.errors.offset", str(dead.offset).encode()),
        ("__connect.errors.exception.class.name", (dead.verdict.error_class or "").encode()),
        ("__connect.errors.exception.message", (dead.verdict.error_message or "").encode()),
        *[(k, v) for k, v in dead.headers if not k.startswith("__connect.errors.")],
    ]
