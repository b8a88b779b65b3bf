"""Compressed record batches land: gzip, snappy, lz4 and zstd batches from confluent-kafka (librdkafka)
and from kafka-python, with the signature headers alone or with extra ones, interleaved with
``kouiki submit`` events, are landed by ``kouiki ingest`` exactly once, none dead-lettered."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
from confluent_kafka import Producer
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from kouiki.config import Settings
from kouiki.messaging.topics import DEADLETTER_TOPIC, INGEST_TOPICS, REPORTS_TOPIC, key_for
from kouiki.sample.generator import generate
from tests.support import signing
from tests.support.platform import run_kouiki

pytestmark = pytest.mark.integration

CODECS = ("gzip", "snappy", "lz4", "zstd")
EXTRA_HEADERS: list[tuple[str, bytes]] = [
    ("content-type", b"application/json"),
    ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ("x-empty", b""),
]
NULL_HEADER = ("x-null", None)  # a header without a value: librdkafka sends one, kafka-python refuses to
Offset = tuple[str, int, int]  # topic, partition, offset


def encoded(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def submit(settings: Settings, path: Path, docs: list[dict[str, Any]]) -> list[Offset]:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    receipts = [json.loads(line) for line in run_kouiki(settings, "submit", str(path), check=True).stdout.splitlines()]
    assert len(receipts) == len(docs)
    return [(r["topic"], r["partition"], r["offset"]) for r in receipts]


def produce_confluent(settings: Settings, codec: str, docs: list[dict[str, Any]], extra: bool) -> list[Offset]:
    """One producer per codec; a linger so that the documents share compressed batches."""
    producer = Producer(
        {"bootstrap.servers": settings.bootstrap_servers, "acks": "all", "compression.type": codec, "linger.ms": 50}
    )
    delivered: list[Any] = []
    for doc in docs:
        value = encoded(doc)
        headers: list[tuple[str, bytes | None]] = [*signing.headers(value, settings)]
        headers += [*EXTRA_HEADERS, NULL_HEADER] if extra else []
        producer.produce(
            REPORTS_TOPIC,
            key=key_for(doc).encode(),
            value=value,
            headers=headers,
            on_delivery=lambda err, msg: delivered.append((err, msg)),
        )
    assert producer.flush(30) == 0
    assert [err for err, _msg in delivered] == [None] * len(docs)
    return [(msg.topic(), msg.partition(), msg.offset()) for _err, msg in delivered]


def produce_kafka_python(settings: Settings, codec: str, docs: list[dict[str, Any]]) -> list[Offset]:
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", compression_type=codec, linger_ms=50
    )
    futures = []
    for i, doc in enumerate(docs):
        value = encoded(doc)
        headers = signing.headers(value, settings) + (EXTRA_HEADERS if i % 2 else [])
        futures.append(producer.send(REPORTS_TOPIC, key=key_for(doc).encode(), value=value, headers=headers))
    producer.flush(30)
    metas = [f.get(timeout=10) for f in futures]
    producer.close()
    return [(m.topic, m.partition, m.offset) for m in metas]


def high_watermarks(settings: Settings, topic: str) -> dict[int, int]:
    """Each partition's high watermark as a fetch reports it (this broker's ListOffsets LATEST is not
    reliable after a multi-record batch), read by a plain kafka-python consumer."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        for _ in range(100):
            consumer.poll(timeout_ms=200)
            marks = {tp: consumer.highwater(tp) for tp in partitions}
            if all(m is not None and consumer.position(tp) >= m for tp, m in marks.items()):
                return {tp.partition: int(m or 0) for tp, m in marks.items()}
        raise AssertionError(f"no high watermark for every partition of {topic}")
    finally:
        consumer.close()


def lake(settings: Settings, topic: str) -> list[tuple[int, int, str, bytes]]:
    glob = settings.raw_dir / topic / "*" / "*" / "*.parquet"
    return duckdb.sql(
        f"select _partition, _offset, _status, _value from read_parquet('{glob}') order by 1, 2"
    ).fetchall()


def test_every_codec_from_both_clients_lands_exactly_once(fresh_broker: Settings, tmp_path: Path) -> None:
    settings = fresh_broker
    sample = generate(seed=41, quarters=2)
    reports = list({r["event_id"]: r for r in sample.reports}.values())  # without the re-sent duplicates
    assert len(reports) >= 3 * 18
    chunks = iter([reports[i : i + 3] for i in range(0, len(reports), 3)])

    produced = submit(settings, tmp_path / "registry.jsonl", sample.registry)
    produced += submit(settings, tmp_path / "first.jsonl", next(chunks) + next(chunks))
    for codec in CODECS:
        for extra in (False, True):
            produced += produce_confluent(settings, codec, next(chunks), extra)
        produced += submit(settings, tmp_path / f"after-confluent-{codec}.jsonl", next(chunks))
    for codec in CODECS:
        produced += produce_kafka_python(settings, codec, next(chunks))
    produced += submit(settings, tmp_path / "last.jsonl", [doc for chunk in chunks for doc in chunk])
    assert len(produced) == len(set(produced)) == len(sample.registry) + len(reports)

    ingest = run_kouiki(settings, "ingest", check=True)
    assert f"ingest: {len(produced)} events consumed" in ingest.stdout

    for topic in INGEST_TOPICS:
        rows = lake(settings, topic)
        acked = sorted((p, o) for t, p, o in produced if t == topic)
        assert [(p, o) for p, o, _s, _v in rows] == acked  # each acknowledged offset once, nothing else
        marks = high_watermarks(settings, topic)
        assert Counter(p for p, _o, _s, _v in rows) == Counter({p: n for p, n in marks.items() if n})
        assert {s for _p, _o, s, _v in rows} == {"landed"}
    expected = Counter(d["event_id"] for d in [*sample.registry, *reports])
    landed = Counter(json.loads(v)["event_id"] for t in INGEST_TOPICS for _p, _o, _s, v in lake(settings, t))
    assert landed == expected and set(expected.values()) == {1}
    assert high_watermarks(settings, DEADLETTER_TOPIC) == {0: 0}
