"""Submit → Kafka → lake, against the real broker: receipts, located errors, exactly-once landing,
dead letters with Kafka Connect style headers, and a new epoch after a log reset."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from kafka import TopicPartition

from kouiki.config import Settings
from kouiki.intake import submit
from kouiki.landing import coordinator
from kouiki.messaging import clients
from kouiki.messaging.topics import DEADLETTER_TOPIC, REPORTS_TOPIC
from kouiki.sample.generator import generate
from kouiki.services import broker
from tests.support import signing
from tests.support.platform import free_port, run_kouiki
from tests.support.raw_producer import raw_producer

pytestmark = pytest.mark.integration


def lake_rows(settings: Settings, topic: str) -> list[tuple[int, int, str, str | None]]:
    glob = settings.raw_dir / topic / "*" / "*" / "*.parquet"
    return duckdb.sql(
        f"select _partition, _offset, _status, _error_class from read_parquet('{glob}') order by 1, 2"
    ).fetchall()


def sample_files(tmp_path: Path, seed: int) -> list[Path]:
    return generate(seed=seed, quarters=2).write(tmp_path / f"sample-{seed}")


def test_submit_gives_receipts_and_ingest_lands_each_event_once(fresh_broker: Settings, tmp_path: Path) -> None:
    settings = fresh_broker
    files = sample_files(tmp_path, seed=21)
    proc = run_kouiki(settings, "submit", *map(str, files), check=True)
    receipts = [json.loads(line) for line in proc.stdout.splitlines()]
    sent = sum(1 for f in files for line in f.read_text().splitlines() if line.strip())
    assert len(receipts) == sent
    assert all(r["offset"] >= 0 and r["topic"].startswith("kouiki.") for r in receipts)

    before = run_kouiki(settings, "status", check=True).stdout
    assert f"{REPORTS_TOPIC}       0" in before and " -  " in before  # nothing landed yet, all lag

    first = run_kouiki(settings, "ingest", check=True)
    assert f"ingest: {sent} events consumed" in first.stdout
    again = run_kouiki(settings, "ingest", check=True)
    assert "ingest: 0 events consumed" in again.stdout

    landed = lake_rows(settings, REPORTS_TOPIC)
    expected = sorted((r["partition"], r["offset"], "landed", None) for r in receipts if r["topic"] == REPORTS_TOPIC)
    assert landed == expected  # every acknowledged offset exactly once, nothing else

    status = [line.split() for line in run_kouiki(settings, "status", check=True).stdout.splitlines()[2:]]
    for topic, partition, end, last, lag, dead, _newest in status:
        acked = [r["offset"] for r in receipts if r["topic"] == topic and r["partition"] == int(partition)]
        assert (int(end.replace(",", "")), lag, dead) == (max(acked) + 1, "0", "0")
        assert int(last.replace(",", "")) == max(acked)


def test_replay_from_a_timestamp_lands_again_into_a_new_epoch(fresh_broker: Settings, tmp_path: Path) -> None:
    settings = fresh_broker
    files = sample_files(tmp_path, seed=24)
    before_submit = datetime.now(UTC) - timedelta(seconds=2)
    run_kouiki(settings, "submit", *map(str, files), check=True)
    run_kouiki(settings, "ingest", check=True)
    landed = lake_rows(settings, REPORTS_TOPIC)

    replay = run_kouiki(settings, "ingest", "--from-timestamp", before_submit.isoformat(), check=True)
    assert "epoch=replay-" in replay.stdout
    epochs = sorted(p.name for p in (settings.raw_dir / REPORTS_TOPIC).iterdir())
    assert len(epochs) == 2 and epochs[1].startswith("epoch=replay-")
    assert sorted(lake_rows(settings, REPORTS_TOPIC)) == sorted(landed * 2)  # old files kept, all re-landed
    future = run_kouiki(settings, "ingest", "--from-timestamp", "2999-01-01T00:00:00+09:00")
    assert future.returncode == 2 and "in the future" in future.stderr


def test_invalid_file_is_reported_with_location_and_nothing_of_it_is_sent(
    fresh_broker: Settings, tmp_path: Path
) -> None:
    settings = fresh_broker
    sample = generate(seed=22, quarters=1)
    registry = sample.write(tmp_path / "registry")[0]
    run_kouiki(settings, "submit", str(registry), check=True)
    good = sample.reports[:3]
    bad = json.loads(json.dumps(good[1]))
    bad["funding"][0]["amount_jpy"] = 12.5
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in (good[0], bad, good[2])) + "\n")

    proc = run_kouiki(settings, "submit", "--all-or-nothing", str(path))
    assert proc.returncode == 1
    assert f"{path}: record 2 (line 2): $.funding[0].amount_jpy: 12.5 is not of type 'integer'" in proc.stderr
    assert "整数 integer" in proc.stderr  # and in Japanese
    assert proc.stdout == ""
    registrations = sum(1 for line in registry.read_text().splitlines() if line.strip())
    assert f"ingest: {registrations} events consumed" in run_kouiki(settings, "ingest", check=True).stdout

    proc = run_kouiki(settings, "submit", str(path))  # without --all-or-nothing the valid two go
    assert proc.returncode == 1 and len(proc.stdout.splitlines()) == 2
    assert "ingest: 2 events consumed" in run_kouiki(settings, "ingest", check=True).stdout


def test_poison_messages_are_dead_lettered_unchanged_with_headers(fresh_broker: Settings, tmp_path: Path) -> None:
    settings = fresh_broker
    poison = [b"\x82\xa0 shift_jis?", b'{"schema_version": "1.0"', b"[]"]
    producer = raw_producer(settings)
    offsets = [
        producer.send(REPORTS_TOPIC, key=b"KR-X-01-P01", value=v, headers=signing.headers(v, settings))
        .get(timeout=10)
        .offset
        for v in poison
    ]
    producer.close()
    report = coordinator.land(settings)
    counts = next(iter(report.counts.values()))
    assert (counts["consumed"], counts["landed"], counts["dead_lettered"]) == (3, 0, 3)
    assert [row[2:] for row in lake_rows(settings, REPORTS_TOPIC)] == [
        ("dead_letter", "NotUtf8"),
        ("dead_letter", "InvalidJson"),
        ("dead_letter", "SchemaViolation"),
    ]

    consumer = clients.consumer(settings, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(DEADLETTER_TOPIC, 0)])
    records = [r for batch in consumer.poll(timeout_ms=5000).values() for r in batch]
    consumer.close()
    assert [r.value for r in records] == poison
    headers = dict(records[0].headers)
    assert headers["__connect.errors.topic"] == REPORTS_TOPIC.encode()
    assert headers["__connect.errors.offset"] == str(offsets[0]).encode()
    assert headers["__connect.errors.exception.class.name"] == b"NotUtf8"


def test_a_restarted_broker_is_landed_as_a_new_epoch(fresh_broker: Settings, tmp_path: Path) -> None:
    settings = fresh_broker
    files = sample_files(tmp_path, seed=23)
    for restart in (False, True):  # the memory broker forgets everything: offsets restart at 0
        if restart:
            broker.stop(settings)
            broker.start(settings)
        run_kouiki(settings, "submit", *map(str, files), check=True)
        run_kouiki(settings, "ingest", check=True)
    epochs = sorted(p.name for p in (settings.raw_dir / REPORTS_TOPIC).iterdir())
    assert len(epochs) == 2
    sent = sum(1 for line in files[1].read_text().splitlines() if line.strip())
    rows = lake_rows(settings, REPORTS_TOPIC)
    assert len(rows) == 2 * sent  # nothing skipped, nothing overwritten
    assert {status for _p, _o, status, _e in rows} == {"landed"}


def test_reports_sent_while_landing_wait_for_the_next_run_instead_of_dead_lettering(
    fresh_broker: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submit of registrations and reports that lands in the middle of an ingest run: the run
    stops at the reports' end offsets taken before it read the registrations."""
    settings = fresh_broker
    files = sample_files(tmp_path, seed=25)
    snapshot = coordinator.Lander._end_offsets

    def submit_right_after_the_snapshot(self: coordinator.Lander, topic: str, timeout: float = 10.0) -> dict[int, int]:
        ends = snapshot(self, topic, timeout)
        run_kouiki(settings, "submit", *map(str, files), check=True)
        return ends

    monkeypatch.setattr(coordinator.Lander, "_end_offsets", submit_right_after_the_snapshot)
    first = coordinator.land(settings)
    monkeypatch.undo()
    second = coordinator.land(settings)
    sent = sum(1 for line in files[1].read_text().splitlines() if line.strip())
    reports_first = sum(c["consumed"] for (t, _e, _p), c in first.counts.items() if t == REPORTS_TOPIC)
    assert reports_first == 0  # the reports were not there when the run began
    assert sum(c["landed"] for (t, _e, _p), c in second.counts.items() if t == REPORTS_TOPIC) == sent
    assert all(c["dead_lettered"] == 0 for c in (*first.counts.values(), *second.counts.values()))


def test_a_large_submission_is_sent_while_checked_and_every_problem_is_reported(
    fresh_broker: Settings, tmp_path: Path
) -> None:
    """Above the parallel threshold, valid reports are sent while later ones are still checked: every
    valid one still gets a receipt in file order, after the registrations, and every invalid one a
    located error."""
    settings = fresh_broker
    sample = generate(seed=27, quarters=6)
    registry_file = sample.write(tmp_path / "sample")[0]
    reports = []
    for i in range(2 * submit.PARALLEL_FROM):
        doc = json.loads(json.dumps(sample.reports[i % len(sample.reports)]))
        doc["event_id"] = str(uuid.UUID(int=i + 1, version=4))
        doc["version"] = i // len(sample.reports) + 1
        reports.append(doc)
    bad = {7: ("funding", "amount_jpy", 12.5), 3999: ("project_code", None, "KR-NONE-01-P01")}
    for index, (field, sub, value) in bad.items():
        if sub is None:
            reports[index][field] = value
        else:
            reports[index][field][0][sub] = value
    report_file = tmp_path / "reports.jsonl"
    report_file.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in reports), encoding="utf-8")
    proc = run_kouiki(settings, "submit", str(registry_file), str(report_file))
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == len(bad)
    assert "record 8 (line 8): $.funding[0].amount_jpy" in "\n".join(errors)
    assert "record 4000 (line 4000): $.project_code" in "\n".join(errors)
    receipts = [json.loads(line) for line in proc.stdout.splitlines()]
    topics = [r["topic"] for r in receipts]
    assert topics == sorted(topics)  # every registration before the first report
    sent_reports = [r for r in receipts if r["topic"] == REPORTS_TOPIC]
    assert [r["record"] for r in sent_reports] == [i + 1 for i in range(len(reports)) if i not in bad]
    assert f"sent: {len(receipts)}" in proc.stderr
    run_kouiki(settings, "ingest", check=True)
    assert len(lake_rows(settings, REPORTS_TOPIC)) == len(reports) - len(bad)


def test_problems_are_reported_even_when_the_broker_is_down(tmp_path: Path) -> None:
    """Nothing valid to send: the secretariat gets its located errors, not a connection error."""
    settings = signing.settings_for(tmp_path / "data", f"127.0.0.1:{free_port()}")  # no broker there
    report = json.loads(json.dumps(generate(seed=29, quarters=1).reports[0]))
    report["funding"][0]["amount_jpy"] = 12.5
    path = tmp_path / "reports.jsonl"
    path.write_text(json.dumps(report, ensure_ascii=False) + "\n", encoding="utf-8")
    proc = run_kouiki(settings, "submit", str(path))
    assert proc.returncode == 1
    assert "record 1 (line 1): $.funding[0].amount_jpy" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "sent: 0" in proc.stderr
