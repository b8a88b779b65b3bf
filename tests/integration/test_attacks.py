"""The Kafka attack suite: consortium A's secretariat tries to submit, change or overwrite consortium
B's data through every Kafka channel, against the real broker, lander and dbt. Every attempt is refused
before sending or dead-lettered with its reason; B's figures in every mart stay exactly the genuine
ones; A's own signed reports land, from kouiki-independent clients too (kafka-python, confluent-kafka)."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from confluent_kafka import Producer
from kafka import TopicPartition

from kouiki.config import Settings
from kouiki.contract.signature import signed_headers
from kouiki.identity import keys
from kouiki.identity.keys import KeyRing, SigningKey
from kouiki.intake import submit
from kouiki.landing import coordinator
from kouiki.messaging import clients
from kouiki.messaging.topics import DEADLETTER_TOPIC, REGISTRY_TOPIC, REPORTS_TOPIC, key_for
from kouiki.sample.generator import generate
from kouiki.services import broker
from tests.support import signing
from tests.support.platform import free_port, run_kouiki
from tests.support.raw_producer import raw_producer

pytestmark = pytest.mark.integration

SAMPLE = generate(seed=77, quarters=2)
A, B = sorted({r["consortium_code"] for r in SAMPLE.reports if r["funding"]})[:2]  # two that report
B_CONSORTIUM = next(d for d in SAMPLE.registry if d["entity"] == "consortium" and d["consortium_code"] == B)
B_PROJECT = next(d for d in SAMPLE.registry if d["entity"] == "project" and d["consortium_code"] == B)
B_REPORTS = [r for r in SAMPLE.reports if r["consortium_code"] == B]
_A_FUNDED = [r for r in SAMPLE.reports if r["consortium_code"] == A and r["funding"]]
A_REPORTS = [_A_FUNDED[0], next(r for r in _A_FUNDED if r["period"] != _A_FUNDED[0]["period"])]
MARTS = ("fct_investment", "fct_kpi_contribution", "fct_project_progress")


def encoded(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def overwrite_of_b() -> dict[str, Any]:
    """B's latest report as A would like it to read: a higher version, other figures."""
    doc = copy.deepcopy(max(B_REPORTS, key=lambda r: (r["period"], r["version"])))
    doc["event_id"] = "00000000-0000-4000-8000-0000000a77ac"
    doc["version"] = 99
    for line in doc["funding"]:
        line["amount_jpy"] = 1
    return doc


def write_jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


@dataclasses.dataclass
class World:
    settings: Settings
    ring: KeyRing
    key_a: SigningKey
    key_b: SigningKey
    revoked_a: SigningKey
    genuine: dict[str, list[tuple[Any, ...]]]


def b_rows(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        return {
            mart: con.sql(f"select * from marts.{mart} where consortium_code = ? order by all", params=[B]).fetchall()
            for mart in MARTS
        }


def land_and_build(world_settings: Settings, ring: KeyRing) -> coordinator.LandingCounts:
    report = coordinator.land(world_settings, keyring=ring)
    for counts in report.counts.values():
        assert counts["consumed"] == counts["landed"] + counts["dead_lettered"]
    run_kouiki(world_settings, "build", check=True)
    return report


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Every consortium registered by the operator; B's genuine reports signed with B's key, landed
    and built."""
    root = tmp_path_factory.mktemp("attacks")
    settings = signing.settings_for(root / "data", f"127.0.0.1:{free_port()}")
    key_a, key_b = signing.new_key(A), signing.new_key(B)
    revoked_a = signing.new_key(A, revoked_at=datetime.now(UTC))
    ring = signing.keyring(settings, key_a, key_b, revoked_a)
    broker.start(settings)
    try:
        registry = write_jsonl(root / "registry.jsonl", SAMPLE.registry)
        run_kouiki(settings, "submit", str(registry), check=True)  # the operator's key
        reports = write_jsonl(root / "b.jsonl", B_REPORTS)
        outcome = submit.submit([reports], settings, key_id=key_b.key_id, secret=key_b.secret)
        assert not outcome.problems and len(outcome.receipts) == len(B_REPORTS)
        landed = land_and_build(settings, ring)
        assert sum(c["dead_lettered"] for c in landed.counts.values()) == 0
        genuine = b_rows(settings)
        assert all(genuine.values()), genuine
        yield World(settings, ring, key_a, key_b, revoked_a, genuine)
    finally:
        broker.stop(settings)


def end_offsets(settings: Settings) -> dict[tuple[str, int], int]:
    consumer = clients.consumer(settings)
    try:
        partitions = [
            TopicPartition(t, p)
            for t in (REGISTRY_TOPIC, REPORTS_TOPIC)
            for p in consumer.partitions_for_topic(t) or []
        ]
        return {(tp.topic, tp.partition): o for tp, o in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def test_submit_with_a_key_of_a_refuses_b_documents_before_sending(world: World, tmp_path: Path) -> None:
    as_a = dataclasses.replace(world.settings, key_id=world.key_a.key_id, key_secret=world.key_a.secret)
    before = end_offsets(world.settings)
    relabelled = {**overwrite_of_b(), "consortium_code": A, "event_id": "00000000-0000-4000-8000-0000000a77ad"}
    other_prefectures = {**B_CONSORTIUM, "prefectures": ["13", "14"]}
    for doc in (overwrite_of_b(), relabelled, other_prefectures):
        proc = run_kouiki(as_a, "submit", str(write_jsonl(tmp_path / "attack.jsonl", [doc])))
        assert proc.returncode != 0, proc.stderr
        assert f"key {world.key_a.key_id} may not write for consortium {B}" in proc.stderr, proc.stderr
        assert " ／ " in proc.stderr and proc.stdout == ""
    no_key = dataclasses.replace(world.settings, key_id="", key_secret="")
    proc = run_kouiki(no_key, "submit", str(write_jsonl(tmp_path / "mine.jsonl", A_REPORTS[:1])))
    assert proc.returncode != 0 and "kouiki keys add --consortium CODE" in proc.stderr
    assert run_kouiki(no_key, "submit", "--dry-run", str(tmp_path / "mine.jsonl")).returncode == 0
    assert end_offsets(world.settings) == before


def test_every_kafka_attack_is_dead_lettered_and_b_figures_stay_genuine(world: World) -> None:
    key_a, key_b = world.key_a, world.key_b
    overwrite = encoded(overwrite_of_b())
    relabelled = encoded({**overwrite_of_b(), "consortium_code": A})
    other_prefectures = {**B_CONSORTIUM, "prefectures": ["13", "14"]}
    new_project_of_b = {**B_PROJECT, "project_code": f"{B}-P99"}
    moved_to_a = {**B_PROJECT, "consortium_code": A}
    wrong_secret = dataclasses.replace(key_b, secret="guessed")
    tampered_headers = signed_headers(encoded(B_REPORTS[0]), key_b.key_id, key_b.secret)  # B's own signature
    attacks: list[tuple[str, str, bytes, bytes, list[tuple[str, bytes]], str]] = [
        ("unsigned", REPORTS_TOPIC, b_key := key_for(overwrite_of_b()).encode(), overwrite, [], keys.UNSIGNED),
        ("A's key", REPORTS_TOPIC, b_key, overwrite, signing.key_headers(overwrite, key_a), keys.NOT_AUTHORIZED),
        ("relabelled", REPORTS_TOPIC, b_key, relabelled, signing.key_headers(relabelled, key_a), keys.NOT_AUTHORIZED),
        (
            "B's id, wrong secret",
            REPORTS_TOPIC,
            b_key,
            overwrite,
            signing.key_headers(overwrite, wrong_secret),
            keys.BAD_SIGNATURE,
        ),
        ("tampered", REPORTS_TOPIC, b_key, overwrite, tampered_headers, keys.BAD_SIGNATURE),
        ("revoked", REPORTS_TOPIC, b_key, overwrite, signing.key_headers(overwrite, world.revoked_a), keys.REVOKED_KEY),
        (
            "unknown key",
            REPORTS_TOPIC,
            b_key,
            overwrite,
            signed_headers(overwrite, f"{A}.0123456789abcdef", "x"),
            keys.UNKNOWN_KEY,
        ),
    ]
    for name, doc in (
        ("B's consortium, other prefectures", other_prefectures),
        ("a new project of B", new_project_of_b),
        ("B's project moved to A", moved_to_a),
    ):
        value = encoded(doc)
        attacks.append(
            (name, REGISTRY_TOPIC, key_for(doc).encode(), value, signing.key_headers(value, key_a), keys.NOT_AUTHORIZED)
        )

    producer = raw_producer(world.settings)
    sent = {}
    for name, topic, key, value, headers, reason in attacks:
        meta = producer.send(topic, key=key, value=value, headers=headers).get(timeout=10)
        sent[(meta.topic, meta.partition, meta.offset)] = (name, reason)
    # A's own report, signed with A's key: with kafka-python and with confluent-kafka
    own_kafka_python, own_confluent = (encoded(r) for r in A_REPORTS[:2])
    meta = producer.send(
        REPORTS_TOPIC,
        key=A_REPORTS[0]["project_code"].encode(),
        value=own_kafka_python,
        headers=signing.key_headers(own_kafka_python, key_a),
    ).get(timeout=10)
    producer.close()
    own = {(meta.topic, meta.partition, meta.offset)}
    delivered: list[Any] = []
    confluent = Producer({"bootstrap.servers": world.settings.bootstrap_servers, "acks": "all"})
    confluent.produce(
        REPORTS_TOPIC,
        key=A_REPORTS[1]["project_code"].encode(),
        value=own_confluent,
        headers=signing.key_headers(own_confluent, key_a),
        on_delivery=lambda err, msg: delivered.append((err, msg)),
    )
    assert confluent.flush(30) == 0
    [(err, msg)] = delivered
    assert err is None, err
    own.add((msg.topic(), msg.partition(), msg.offset()))

    report = land_and_build(world.settings, world.ring)
    assert sum(c["consumed"] for c in report.counts.values()) == len(attacks) + 2

    glob = world.settings.raw_dir / "*" / "*" / "*" / "*.parquet"
    rows = duckdb.sql(
        f"select _topic, _partition, _offset, _status, _error_class from read_parquet('{glob}')"
    ).fetchall()
    by_position = {(t, p, o): (s, e) for t, p, o, s, e in rows}
    for position, (name, reason) in sent.items():
        assert by_position[position] == ("dead_letter", reason), name
    for position in own:
        assert by_position[position] == ("landed", None)

    consumer = clients.consumer(world.settings, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(DEADLETTER_TOPIC, 0)])
    consumer.seek(TopicPartition(DEADLETTER_TOPIC, 0), 0)
    dead = [r for batch in consumer.poll(timeout_ms=5000, max_records=1000).values() for r in batch]
    consumer.close()
    reasons = Counter(dict(r.headers)["__connect.errors.exception.class.name"].decode() for r in dead)
    assert reasons == Counter(reason for _, reason in sent.values())
    assert {r.value for r in dead} == {value for *_, value, _h, _r in attacks}  # unchanged

    assert b_rows(world.settings) == world.genuine  # every B row of every mart, exactly as before
    with duckdb.connect(str(world.settings.serving_path), read_only=True) as con:
        events = {row[0] for row in con.sql("select distinct report_event_id from marts.fct_investment").fetchall()}
        assert {A_REPORTS[0]["event_id"], A_REPORTS[1]["event_id"]} <= events
        classes = Counter(
            dict(con.sql("select error_class, count(*) from marts.fct_dead_letter_events group by 1").fetchall())
        )
    assert classes == Counter(reason for _, reason in sent.values())
