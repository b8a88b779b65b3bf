"""One unreadable partition stops only itself: a record batch whose CRC does not match is put on one
report partition (the broker stores what it is sent), and ``kouiki ingest`` must land every other
partition of both topics in the same run, report the stuck partition with its offset and error
(exit code, ``kouiki status``, run/stuck_partitions.json, an alert), and skip nothing. Then
``kouiki quarantine`` sets the raw batch aside and a second run lands what follows it.

One partition process reads all three report partitions (KOUIKI_LANDER_PROCESSES=1), so the
process must find out which of its partitions failed."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.protocol.producer import ProduceRequest
from kafka.record.default_records import DefaultRecordBatchBuilder

from kouiki.config import Settings
from kouiki.messaging.topics import DEADLETTER_TOPIC, REGISTRY_TOPIC, REPORTS_TOPIC
from kouiki.sample.generator import generate
from tests.support import signing
from tests.support.platform import run_kouiki
from tests.support.raw_producer import raw_producer

pytestmark = pytest.mark.integration

SAMPLE = generate(seed=13, quarters=2)
BAD_PARTITION = 1
BEFORE = {0: 7, 1: 5, 2: 6}  # good reports per partition before the bad batch
BAD_RECORDS = 3
AFTER = {0: 4, 1: 8, 2: 3}  # good reports per partition after it
REASON = "CRC mismatch found in test; batch kept for the sender"


def reports(first: int, count: int, settings: Settings) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    out = []
    for i in range(first, first + count):
        doc = dict(SAMPLE.reports[i % len(SAMPLE.reports)])
        doc["event_id"] = str(uuid.UUID(int=i + 1, version=4))
        value = json.dumps(doc, ensure_ascii=False).encode()
        out.append((doc["project_code"].encode(), value, signing.headers(value, settings)))
    return out


def produce(settings: Settings, counts: dict[int, int], first: int) -> int:
    producer = raw_producer(settings)
    for partition, count in counts.items():
        for key, value, headers in reports(first, count, settings):
            producer.send(REPORTS_TOPIC, key=key, value=value, headers=headers, partition=partition)
        first += count
    producer.flush()
    producer.close()
    return first


def produce_corrupt_batch(settings: Settings, first: int) -> bytes:
    """A batch of signed reports with one payload byte flipped after the CRC was computed, sent with a
    ProduceRequest of its own (a producer would compute a good CRC). Returns the bytes sent."""
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=False,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for i, (key, value, headers) in enumerate(reports(first, BAD_RECORDS, settings)):
        builder.append(i, int(time.time() * 1000), key, value, headers)
    sent = bytearray(builder.build())
    sent[-20] ^= 0xFF
    topic = ProduceRequest.TopicProduceData
    request = ProduceRequest(
        transactional_id=None,
        acks=-1,
        timeout_ms=10000,
        topic_data=[
            topic(
                name=REPORTS_TOPIC,
                partition_data=[topic.PartitionProduceData(index=BAD_PARTITION, records=bytes(sent))],
            )
        ],
        max_version=9,
    )
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:

        async def send() -> Any:
            return await admin._manager.send(request)  # noqa: SLF001 - no public raw produce

        response = admin._manager.run(send)  # noqa: SLF001
    finally:
        admin.close()
    answer = response.responses[0].partition_responses[0]
    assert (answer.error_code, answer.base_offset) == (0, BEFORE[BAD_PARTITION])
    return bytes(sent)


def lake_rows(settings: Settings, topic: str) -> list[tuple[int, int, str, str | None, str | None]]:
    glob = settings.raw_dir / topic / "*" / "*" / "*.parquet"
    return duckdb.sql(
        f"select _partition, _offset, _status, _error_class, _error_message from read_parquet('{glob}') order by all"
    ).fetchall()


def offsets(rows: list[tuple[int, int, str, str | None, str | None]], partition: int) -> list[int]:
    return [o for p, o, *_ in rows if p == partition]


def test_unreadable_partition_stops_only_itself_until_quarantined(fresh_broker: Settings, tmp_path: Path) -> None:
    settings = dataclasses.replace(fresh_broker, lander_processes=1)
    (tmp_path / "registry.jsonl").write_text("".join(json.dumps(d) + "\n" for d in SAMPLE.registry), encoding="utf-8")
    run_kouiki(settings, "submit", str(tmp_path / "registry.jsonl"), check=True)
    first = produce(settings, BEFORE, 0)
    sent = produce_corrupt_batch(settings, first)
    produce(settings, AFTER, first + BAD_RECORDS)
    bad = BEFORE[BAD_PARTITION]  # the bad batch's base offset: the first one that cannot be landed

    run = run_kouiki(settings, "ingest")
    assert run.returncode == 1, run.stderr
    assert f"{REPORTS_TOPIC}[{BAD_PARTITION}]" in run.stderr
    assert f"オフセット {bad}" in run.stderr and f"stuck at offset {bad}" in run.stderr
    assert "BAD_MSG" in run.stderr

    rows = lake_rows(settings, REPORTS_TOPIC)
    for partition in (0, 2):  # everything, in the same run
        assert offsets(rows, partition) == list(range(BEFORE[partition] + AFTER[partition]))
    assert offsets(rows, BAD_PARTITION) == list(range(bad))  # up to the bad batch, nothing past it
    assert {s for *_, s, _c, _m in rows} == {"landed"}
    registry = lake_rows(settings, REGISTRY_TOPIC)
    assert len(registry) == len(SAMPLE.registry)
    assert {s for *_, s, _c, _m in registry} == {"landed"}

    state = json.loads((settings.run_dir / "stuck_partitions.json").read_text(encoding="utf-8"))
    assert [(e["topic"], e["partition"], e["offset"], e["error_class"]) for e in state] == [
        (REPORTS_TOPIC, BAD_PARTITION, bad, "BAD_MSG")
    ]
    assert "crc" in state[0]["error_message"].lower()
    status = run_kouiki(settings, "status", check=True).stdout
    assert f"STUCK {REPORTS_TOPIC}[{BAD_PARTITION}]" in status and f"offset={bad} BAD_MSG" in status
    alerts = [json.loads(line) for line in (settings.run_dir / "alerts.jsonl").read_text().splitlines()]
    assert len(alerts) == 1 and f"stuck at offset {bad}" in alerts[0]["message"]

    again = run_kouiki(settings, "ingest")  # still stuck, still nothing skipped
    assert again.returncode == 1
    assert offsets(lake_rows(settings, REPORTS_TOPIC), BAD_PARTITION) == list(range(bad))
    first_seen = state[0]["first_seen"]
    state = json.loads((settings.run_dir / "stuck_partitions.json").read_text(encoding="utf-8"))
    assert state[0]["first_seen"] == first_seen

    wrong = run_kouiki(
        settings, "quarantine", "--topic", REPORTS_TOPIC, "--partition", str(BAD_PARTITION), "--offset", str(bad + 3)
    )
    assert wrong.returncode == 2 and f"resumes at offset {bad}" in wrong.stderr  # no gap left behind

    quarantined = run_kouiki(
        settings,
        "quarantine",
        "--topic",
        REPORTS_TOPIC,
        "--partition",
        str(BAD_PARTITION),
        "--offset",
        str(bad),
        "--reason",
        REASON,
        check=True,
    )
    record = json.loads(quarantined.stdout.splitlines()[0])
    assert (record["base_offset"], record["last_offset"], record["reason"]) == (bad, bad + BAD_RECORDS - 1, REASON)
    saved = Path(record["file"]).read_bytes()
    assert saved[16:] == sent[16:]  # magic, the stored (wrong) CRC and the payload, byte for byte
    assert hashlib.sha256(saved).hexdigest() == record["sha256"]
    logged = [json.loads(line) for line in (settings.run_dir / "quarantine.jsonl").read_text().splitlines()]
    assert logged == [record]

    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    consumer.assign([TopicPartition(DEADLETTER_TOPIC, 0)])
    consumer.seek_to_beginning()
    dead = [m for batch in consumer.poll(timeout_ms=5000).values() for m in batch]
    consumer.close()
    assert len(dead) == 1 and dead[0].value == saved
    headers = dict(dead[0].headers)
    assert headers["__connect.errors.topic"] == REPORTS_TOPIC.encode()
    assert headers["__connect.errors.partition"] == str(BAD_PARTITION).encode()
    assert headers["__connect.errors.offset"] == str(bad).encode()
    assert headers["kouiki.quarantine.last_offset"] == str(bad + BAD_RECORDS - 1).encode()
    assert headers["__connect.errors.exception.class.name"] == b"quarantined_batch"
    assert REASON.encode() in headers["__connect.errors.exception.message"]

    final = run_kouiki(settings, "ingest")
    assert final.returncode == 0, final.stderr
    rows = lake_rows(settings, REPORTS_TOPIC)
    total = BEFORE[BAD_PARTITION] + BAD_RECORDS + AFTER[BAD_PARTITION]
    assert offsets(rows, BAD_PARTITION) == list(range(total))
    bad_rows = [r for r in rows if r[0] == BAD_PARTITION and bad <= r[1] < bad + BAD_RECORDS]
    assert {(s, c) for _p, _o, s, c, _m in bad_rows} == {("dead_letter", "quarantined_batch")}
    assert all(REASON in (m or "") for *_, m in bad_rows)
    assert Counter(s for *_, s, _c, _m in rows) == {
        "landed": sum(BEFORE.values()) + sum(AFTER.values()),
        "dead_letter": BAD_RECORDS,
    }
    assert json.loads((settings.run_dir / "stuck_partitions.json").read_text(encoding="utf-8")) == []
    assert "STUCK" not in run_kouiki(settings, "status", check=True).stdout
