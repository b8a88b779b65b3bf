"""The bad-input corpus (tests/support/bad_inputs.py) against the real broker, both ways in:
through `kouiki submit` (a located error per file, exit code 1, nothing sent), and injected raw
into the topics (every message dead-lettered with its reason, and accounted for)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from kafka import TopicPartition

from kouiki.config import Settings
from kouiki.landing import coordinator
from kouiki.messaging import clients
from kouiki.messaging.topics import DEADLETTER_TOPIC, INGEST_TOPICS, REGISTRY_TOPIC, REPORTS_TOPIC
from tests.support import signing
from tests.support.bad_inputs import CASES, REGISTRY
from tests.support.platform import run_kouiki
from tests.support.raw_producer import raw_producer

pytestmark = pytest.mark.integration


@pytest.fixture
def registered(fresh_broker: Settings, tmp_path: Path) -> Settings:
    """An empty broker of the test's own with the corpus's registrations: the cases depend on which
    projects are registered, and the raw injection accounts for everything on the topics."""
    registry = tmp_path / "registry.jsonl"
    registry.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in REGISTRY), encoding="utf-8")
    run_kouiki(fresh_broker, "submit", str(registry), check=True)
    return fresh_broker


def end_offsets(settings: Settings) -> dict[tuple[str, int], int]:
    consumer = clients.consumer(settings, auto_offset_reset="earliest")
    try:
        partitions = [TopicPartition(t, p) for t in INGEST_TOPICS for p in consumer.partitions_for_topic(t) or []]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        while any(consumer.highwater(tp) is None for tp in partitions):
            consumer.poll(timeout_ms=300)
        return {(tp.topic, tp.partition): int(consumer.highwater(tp)) for tp in partitions}
    finally:
        consumer.close()


def test_submit_rejects_every_case_with_a_located_error_and_sends_nothing(registered: Settings, tmp_path: Path) -> None:
    before = end_offsets(registered)
    files = []
    for number, case in enumerate(c for c in CASES if c.submit_says):
        path = tmp_path / "corpus" / f"{number:02d}-{re.sub(r'[^a-z0-9]+', '-', case.name.lower())}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(case.raw)
        files.append((path, case))
    proc = run_kouiki(registered, "submit", *(str(p) for p, _ in files))
    assert proc.returncode == 1
    assert proc.stdout == ""  # no receipts
    for path, case in files:
        lines = [line for line in proc.stderr.splitlines() if line.startswith(f"error: {path}: record ")]
        assert lines, f"{case.name}: no error names {path}"
        assert any(case.submit_says in line for line in lines), f"{case.name}: {lines}"
    assert end_offsets(registered) == before


def test_raw_injection_dead_letters_every_case_with_its_reason(registered: Settings) -> None:
    producer = raw_producer(registered, max_request_size=4 * 1024 * 1024)
    sent = {}
    for case in CASES:
        headers = signing.headers(case.raw, registered)  # signed, so refused for its own reason
        meta = producer.send(case.topic, key=b"corpus", value=case.raw, headers=headers).get(timeout=10)
        sent[(meta.topic, meta.partition, meta.offset)] = case
    producer.close()

    report = coordinator.land(registered)

    glob = registered.raw_dir / "*" / "*" / "*" / "*.parquet"
    rows = duckdb.sql(
        f"select _topic, _partition, _offset, _status, _error_class from read_parquet('{glob}')"
    ).fetchall()
    by_offset = {(t, p, o): (status, error_class) for t, p, o, status, error_class in rows}
    for position, case in sent.items():
        assert by_offset[position] == ("dead_letter", case.dead_letter_class), case.name
    # accounting, per topic and partition: everything the broker holds is in the lake, once
    assert Counter((t, p) for t, p, *_ in rows) == Counter({k: v for k, v in end_offsets(registered).items() if v})
    for counts in report.counts.values():
        assert counts["consumed"] == counts["landed"] + counts["dead_lettered"]
    assert sum(c["dead_lettered"] for c in report.counts.values()) == len(CASES)
    assert sum(c["landed"] for (t, _e, _p), c in report.counts.items() if t == REGISTRY_TOPIC) == len(REGISTRY)

    consumer = clients.consumer(registered, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(DEADLETTER_TOPIC, 0)])
    letters = []
    while len(letters) < len(CASES):
        batch = consumer.poll(timeout_ms=5000)
        assert batch, f"only {len(letters)} dead letters"
        letters.extend(r for records in batch.values() for r in records)
    consumer.close()
    for letter in letters:
        headers = dict(letter.headers)
        position = (
            headers["__connect.errors.topic"].decode(),
            int(headers["__connect.errors.partition"]),
            int(headers["__connect.errors.offset"]),
        )
        case = sent[position]
        assert letter.value == case.raw  # unchanged
        assert headers["__connect.errors.exception.class.name"].decode() == case.dead_letter_class
        assert headers["__connect.errors.exception.message"]
    assert REPORTS_TOPIC in {t for t, _p, _o in sent}
