"""What the lander lands and what it dead-letters, decided without a broker."""

from __future__ import annotations

import json

import pytest

from kouiki.landing.dead_letters import DEAD_LETTER, LANDED, classify
from kouiki.sample.generator import generate

REPORT = generate(seed=5, quarters=1).reports[0]
PROJECT = next(d for d in generate(seed=5, quarters=1).registry if d["entity"] == "project")


def encoded(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def test_valid_documents_on_their_own_topic_are_landed() -> None:
    assert classify("kouiki.reports.v1", encoded(REPORT), 1 << 20).status == LANDED
    assert classify("kouiki.registry.v1", encoded(PROJECT), 1 << 20).status == LANDED


@pytest.mark.parametrize(
    ("topic", "value", "error_class"),
    [
        ("kouiki.reports.v1", b"\xff\xfe garbage", "NotUtf8"),
        ("kouiki.reports.v1", b'{"truncated": ', "InvalidJson"),
        ("kouiki.reports.v1", encoded({**REPORT, "version": "2"}), "SchemaViolation"),
        ("kouiki.registry.v1", encoded(REPORT), "WrongTopic"),
        ("kouiki.reports.v1", None, "EmptyMessage"),
        ("kouiki.reports.v1", b" " * (64 * 1024 + 1), "MessageTooLarge"),
    ],
)
def test_bad_messages_are_dead_lettered_with_a_reason(topic: str, value: bytes | None, error_class: str) -> None:
    verdict = classify(topic, value, max_bytes=64 * 1024)
    assert (verdict.status, verdict.error_class) == (DEAD_LETTER, error_class)
    assert verdict.error_message
