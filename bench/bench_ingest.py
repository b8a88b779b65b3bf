"""Ingest benchmark: `kouiki submit` and the lander against bare kafka-python on the same bytes.

    .venv/bin/python bench/bench_ingest.py [--reports 100000] [--rounds 3] [--seed 2034]

Starts a private broker, writes realistic registry and report documents (the national-scale
generator, with submission times moved into the past so every document is valid today), then
measures in one run: submit (read + validate + produce, acks=all) against a bare producer sending
the same bytes with the same settings, and landing (validate + dead-letter + Parquet) against a bare
consumer reading the same messages with the same settings. Submit signs every document with the
platform's operator key and the lander checks every signature against the key ring, as in
production (the bare paths send and read the same bytes; the consumer reads the signed messages,
headers included). Every path is measured ``--rounds`` times,
alternating with its bare counterpart, and the table shows the medians (a 2-core machine shared with
the broker is noisy). Prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from kafka import KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from kouiki.config import Settings
from kouiki.identity.signing_keys import ensure_operator_key, keyring
from kouiki.intake import submit
from kouiki.landing import coordinator
from kouiki.messaging import clients
from kouiki.messaging.topics import REPORTS_TOPIC, TOPIC_PARTITIONS
from kouiki.sample import national
from kouiki.services import broker
from kouiki.services.processes import free_port

T = TypeVar("T")

BARE_TOPIC = "bench.bare.v1"


def documents(reports: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = national.generate(seed=seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    chosen = data.reports[:reports]
    for i, doc in enumerate(data.registry + chosen):
        doc["submitted_at"] = (start + timedelta(seconds=i)).isoformat()
    return data.registry, chosen


def write_jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def bare_produce(settings: Settings, lines: list[bytes], keys: list[bytes]) -> None:
    """kafka-python with the settings Kouiki's producer states (acks=all, idempotence, linger 5 ms)."""
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        batch_size=262144,
        max_request_size=settings.max_message_bytes + 64 * 1024,
    )
    for key, value in zip(keys, lines, strict=True):
        producer.send(BARE_TOPIC, key=key, value=value)
    producer.flush()
    producer.close()


def bare_consume(settings: Settings, expected: int) -> None:
    consumer = clients.consumer(settings)
    partitions = [TopicPartition(REPORTS_TOPIC, p) for p in range(TOPIC_PARTITIONS[REPORTS_TOPIC])]
    consumer.assign(partitions)
    for tp in partitions:
        consumer.seek(tp, 0)
    seen = 0
    while seen < expected:
        for records in consumer.poll(timeout_ms=500, max_records=5000).values():
            seen += len(records)
    consumer.close()


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="each path is measured this many times; medians shown")
    parser.add_argument("--seed", type=int, default=2034)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kouiki-bench-ingest-"))
    settings = Settings(bootstrap_servers=f"127.0.0.1:{free_port()}", data_dir=work / "data")
    key = ensure_operator_key(settings)  # submit signs with it; the lander's key ring holds it
    settings = dataclasses.replace(settings, key_id=key.key_id, key_secret=key.secret)
    keyring_size = len(keyring(settings))
    registry, reports = documents(args.reports, args.seed)
    if len(reports) < args.reports:  # the national set holds ~80,000 reports: add corrections
        extra = [
            dict(r, event_id=f"{r['event_id'][:-12]}{i:012x}", version=int(r["version"]) + 1)
            for i, r in enumerate(reports[: args.reports - len(reports)])
        ]
        reports += extra
    reg_file, rep_file = write_jsonl(work / "registry.jsonl", registry), write_jsonl(work / "reports.jsonl", reports)
    lines = [line for line in rep_file.read_bytes().split(b"\n") if line]
    keys = [str(r["project_code"]).encode() for r in reports]
    count = len(reports)
    # The generated document graph is large; drop it so neither side pays for its garbage collection.
    del registry, reports
    gc.collect()
    total_bytes = sum(map(len, lines))
    rates: dict[str, list[float]] = {"submit": [], "produce": [], "land": [], "consume": []}
    broker.start(settings)
    try:
        admin = clients.admin(settings)
        admin.create_topics([NewTopic(BARE_TOPIC, TOPIC_PARTITIONS[REPORTS_TOPIC], 1)])
        admin.close()
        submit.submit([reg_file], settings)
        for _ in range(args.rounds):  # each round sends the same reports again, both ways
            outcome, submit_s = timed(lambda: submit.submit([rep_file], settings))
            if outcome.problems or len(outcome.receipts) != count:
                raise SystemExit(f"submit rejected documents: {outcome.problems[:3]}")
            _, produce_s = timed(lambda: bare_produce(settings, lines, keys))
            rates["submit"].append(count / submit_s)
            rates["produce"].append(count / produce_s)
        coordinator.land(settings, topics=["kouiki.registry.v1"])
        on_topic = count * args.rounds
        for _ in range(args.rounds):  # each round lands the whole topic into an empty lake again
            _, consume_s = timed(lambda: bare_consume(settings, on_topic))
            shutil.rmtree(settings.raw_dir / REPORTS_TOPIC, ignore_errors=True)
            report, land_s = timed(lambda: coordinator.land(settings, topics=[REPORTS_TOPIC]))
            if report.consumed != on_topic or any(c["dead_lettered"] for c in report.counts.values()):
                raise SystemExit(f"landing did not land every report cleanly: {report.counts}")
            rates["consume"].append(on_topic / consume_s)
            rates["land"].append(on_topic / land_s)
    finally:
        broker.stop(settings)
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        ("kouiki submit (validate + produce, acks=all)", "submit", "produce"),
        ("lander (signature + validate + Parquet, once)", "land", "consume"),
    ]
    print(
        f"\n{count:,} reports of {total_bytes / count:,.0f} bytes on average; submit sends them {args.rounds} times,"
        f" landing reads all {count * args.rounds:,} {args.rounds} times; medians of {args.rounds} rounds,"
        f" {os.cpu_count()}-core machine; signatures made by submit and checked by the lander"
        f" ({keyring_size} key in the ring)\n"
    )
    print(f"| {'path':<46} | {'kouiki events/s':>15} | {'bare kafka-python events/s':>26} | {'ratio':>5} |")
    print(f"|{'-' * 48}|{'-' * 17}|{'-' * 28}|{'-' * 7}|")
    for name, ours, bare in rows:
        print(
            f"| {name:<46} | {median(rates[ours]):>15,.0f} | {median(rates[bare]):>26,.0f} |"
            f" {median(rates[ours]) / median(rates[bare]):>5.0%} |"
        )
    for name, ours, bare in rows:
        ratios = " ".join(f"{o / b:.0%}" for o, b in zip(rates[ours], rates[bare], strict=True))
        print(f"\n{name}: ratio per round {ratios}", end="")
    print()


if __name__ == "__main__":
    main()
