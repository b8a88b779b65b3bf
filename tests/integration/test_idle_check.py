"""The idle check in front of ``kouiki ingest`` (kouiki.landing.idle), against the real broker: it
answers "nothing new" only when every partition is landed to its end, and in every case of doubt
lets the lander run, so it can delay nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kafka import KafkaProducer

from kouiki.config import Settings
from kouiki.landing import stuck
from kouiki.landing.idle import has_new_events
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC
from kouiki.sample.generator import generate
from kouiki.services import broker
from tests.support.platform import run_kouiki

pytestmark = pytest.mark.integration


def newest_file(settings: Settings, topic: str) -> Path:
    return max((settings.raw_dir / topic).rglob("*.parquet"), key=lambda p: p.name)


def test_idle_only_when_every_partition_is_landed_to_its_end(fresh_broker: Settings, tmp_path: Path) -> None:
    settings = fresh_broker
    assert not has_new_events(settings)  # empty topics, empty lake

    files = generate(seed=5, quarters=1).write(tmp_path / "sample")
    receipts = [json.loads(x) for x in run_kouiki(settings, "submit", *map(str, files), check=True).stdout.splitlines()]
    assert {r["topic"] for r in receipts} == {REGISTRY_TOPIC, REPORTS_TOPIC}
    assert has_new_events(settings)

    landed = run_kouiki(settings, "ingest", check=True).stdout
    assert f"ingest: {len(receipts)} events consumed" in landed
    assert not has_new_events(settings)
    idle = run_kouiki(settings, "ingest", check=True).stdout
    assert "ingest: 0 events consumed (every partition is landed to its end)" in idle

    # One event from any client, even one the lander will dead-letter (unsigned), is work to do.
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    producer.send(REPORTS_TOPIC, key=b"P-X", value=b"{}").get(timeout=10)
    producer.close()
    assert has_new_events(settings)
    assert "ingest: 1 events consumed" in run_kouiki(settings, "ingest", check=True).stdout
    assert not has_new_events(settings)

    # A lake behind the log (its newest file lost) and a lake ahead of it (a reset log) are both the
    # lander's to handle: the check never answers "nothing new" for them.
    newest = newest_file(settings, REPORTS_TOPIC)
    moved = newest.with_name("999999999000-999999999001.parquet")
    newest.rename(moved)
    assert has_new_events(settings)  # ahead: offset out of range
    moved.unlink()
    assert has_new_events(settings)  # behind: the lost file's events are on the topic
    assert "ingest: 0 events consumed" not in run_kouiki(settings, "ingest", check=True).stdout
    assert not has_new_events(settings)

    # A partition recorded stuck in the current epoch: only the lander may re-report or clear it.
    epoch = newest.parent.parent.name.removeprefix("epoch=")
    entry = {
        "topic": REPORTS_TOPIC,
        "epoch": epoch,
        "partition": 0,
        "offset": 0,
        "error_class": "CorruptRecordError",
        "error_message": "crc",
        "first_seen": "2026-12-01T00:00:00+00:00",
        "last_seen": "2026-12-01T00:00:00+00:00",
    }
    stuck.state_path(settings).write_text(json.dumps([entry]), encoding="utf-8")
    assert has_new_events(settings)
    run_kouiki(settings, "ingest", check=True)  # lands nothing, finds nothing stuck: clears the entry
    assert stuck.load(settings) == []
    assert not has_new_events(settings)


def test_a_broker_that_does_not_answer_means_run_the_lander(fresh_broker: Settings) -> None:
    broker.stop(fresh_broker)
    assert has_new_events(fresh_broker, timeout=2.0)
