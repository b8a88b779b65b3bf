"""Exactly-once landing under faults: the lander is SIGKILLed at random moments, including between
writing a batch file and renaming it into place, and the lake must still hold every offset exactly
once when a final run completes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import duckdb
import psutil
import pytest

from kouiki.config import Settings
from kouiki.lake import files as lake
from kouiki.messaging.topics import REPORTS_TOPIC
from kouiki.sample.generator import generate
from tests.support import signing
from tests.support.platform import run_kouiki
from tests.support.raw_producer import raw_producer

pytestmark = pytest.mark.integration
CHUNK = 1500
KILLS = 24
CHILDREN_EXIT_WITHIN = 0.5  # seconds: the kernel kills partition processes with their lander (PDEATHSIG)


SAMPLE = generate(seed=31, quarters=6)


def register(settings: Settings, tmp_path: Path) -> None:
    registry = SAMPLE.write(tmp_path / "sample")[0]
    run_kouiki(settings, "submit", str(registry), check=True)


def produce_reports(settings: Settings, first: int, count: int) -> None:
    """Reports ``first`` .. ``first + count - 1``; every 500th is cut short (poison)."""
    sample = SAMPLE
    producer = raw_producer(settings)
    for i in range(first, first + count):
        doc = dict(sample.reports[i % len(sample.reports)])
        doc["event_id"] = str(uuid.UUID(int=i + 1, version=4))
        doc["version"] = i // len(sample.reports) + 1  # later rounds correct earlier ones
        value = json.dumps(doc, ensure_ascii=False).encode()
        if i % 500 == 0:
            value = value[:100]  # some poison, so dead letters are part of the accounting
        headers = signing.headers(value, settings)  # poison too: refused for being cut short
        producer.send(REPORTS_TOPIC, key=doc["project_code"].encode(), value=value, headers=headers)
    producer.flush()
    producer.close()


def start_lander(settings: Settings) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        KOUIKI_DATA_DIR=str(settings.data_dir),
        KOUIKI_BOOTSTRAP_SERVERS=settings.bootstrap_servers,
        KOUIKI_LANDER_BATCH="40",
        KOUIKI_FAULT_PAUSE_BEFORE_RENAME_MS="25",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "kouiki.cli", "ingest"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def partial_files(settings: Settings, since: float = 0.0) -> int:
    """Batch files written but not yet renamed into place (by a run started after ``since``)."""
    return sum(1 for f in (settings.raw_dir / REPORTS_TOPIC).glob("*/*/.*.tmp") if f.stat().st_mtime >= since)


def test_sigkilled_lander_lands_every_offset_exactly_once(fresh_broker: Settings, tmp_path: Path) -> None:
    settings = fresh_broker
    register(settings, tmp_path)
    produce_reports(settings, 0, CHUNK)
    events = CHUNK
    rng = random.Random(7)
    kills = kills_mid_rename = 0
    while kills < KILLS:
        started = time.time()
        proc = start_lander(settings)
        time.sleep(rng.uniform(1.5, 3.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            kills_mid_rename += partial_files(settings, since=started) > 0
        else:  # it caught up before the kill: keep the log growing while faults continue
            produce_reports(settings, events, CHUNK)
            events += CHUNK
    print(f"\n[faults] {kills} SIGKILLs over {events} events, {kills_mid_rename} between batch write and rename")
    assert kills_mid_rename >= 1

    final = run_kouiki(settings, "ingest", check=True)
    assert "ingest:" in final.stdout
    assert partial_files(settings) == 0

    glob = settings.raw_dir / REPORTS_TOPIC / "*" / "*" / "*.parquet"
    rows = duckdb.sql(f"select _partition, _offset, _status from read_parquet('{glob}')").fetchall()
    per_offset = Counter((p, o) for p, o, _s in rows)
    assert max(per_offset.values()) == 1, "an offset was landed twice"
    for partition in {p for p, _o in per_offset}:
        offsets = sorted(o for p, o in per_offset if p == partition)
        assert offsets == list(range(offsets[-1] + 1)), f"gap in partition {partition}"
    assert len(rows) == events
    poison = len(range(0, events, 500))
    assert Counter(s for _p, _o, s in rows) == {"landed": events - poison, "dead_letter": poison}
    folders = {f.parent for f in (settings.raw_dir / REPORTS_TOPIC).glob("*/*/*.parquet")}
    for folder in folders:  # the files of a partition tile its offsets without overlap
        ranges = lake.landed_ranges(folder)
        assert all(prev[1] + 1 == nxt[0] for prev, nxt in zip(ranges, ranges[1:], strict=False))


def running(process: psutil.Process) -> bool:
    """Alive and not a zombie (an orphan's exit is not always collected at once in a container)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_partition_processes_do_not_outlive_a_killed_lander(shared_broker: Settings, tmp_path: Path) -> None:
    """A partition process left running would land the same partitions as the next run. (Whatever
    else is on the shared broker only adds work for the partition processes.)"""
    settings = shared_broker
    register(settings, tmp_path)
    produce_reports(settings, 0, 20 * CHUNK)  # seconds of work for each partition process
    proc = start_lander(settings)
    lander = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    while not partial_files(settings) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)  # until the report partitions are being landed
    children = lander.children()
    assert children, "the lander started no partition process"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + CHILDREN_EXIT_WITHIN
    while any(running(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c.pid for c in children if running(c)] == []
