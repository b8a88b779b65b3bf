"""Whole-command costs: `kouiki --help`, a no-op `kouiki ingest`, a one-document `kouiki submit` and
the `kouiki ingest` that lands it, and the throughput of `kouiki submit` and `kouiki ingest` of 50,000
reports, each run as a subprocess.

    .venv/bin/python bench/bench_commands.py [--reports 50000] [--rounds 3] [--runs 5]

Starts a private broker on a free loopback port over a temporary data directory and registers the
national sample's registry. Fixed costs are the median of ``--runs`` runs beside ``python -c pass``
(the same interpreter, the bare start-up). Throughput is the median of ``--rounds`` rounds, each on a
restarted (so empty) broker, whose topics are new and so land into a new epoch: `kouiki submit` of
the reports beside a bare kafka-python producer script sending the same bytes and keys with the same
settings (acks=all), then `kouiki ingest` of those reports (exactly ``--reports`` events land) beside
a bare kafka-python consumer script reading the same topic from the beginning to its end. Every
command gets the benchmark's environment (``PYTHONPATH`` included), so it runs this checkout's code.
A second section shows where a no-op ingest spends its start-up (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_ingest import documents, timed, write_jsonl
from kafka.admin import NewTopic

from kouiki.config import Settings
from kouiki.identity.signing_keys import ensure_operator_key
from kouiki.intake import submit
from kouiki.landing import coordinator
from kouiki.messaging import clients
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC, TOPIC_PARTITIONS
from kouiki.services import broker
from kouiki.services.processes import free_port

BARE_TOPIC = "bench.bare.v1"
KOUIKI = str(Path(sys.executable).with_name("kouiki"))

# The bare paths: kafka-python and nothing else, in a process of their own.
BARE_PRODUCER = """
import sys
from kafka import KafkaProducer
bootstrap, topic, values, keys, max_request = sys.argv[1:]
producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
                         batch_size=262144, max_request_size=int(max_request))
with open(values, "rb") as v, open(keys, "rb") as k:
    for key, value in zip(k, v):
        producer.send(topic, key=key.rstrip(b"\\n"), value=value.rstrip(b"\\n"))
producer.flush()
producer.close()
"""
BARE_CONSUMER = """
import sys
from kafka import KafkaConsumer, TopicPartition
bootstrap, topic, partitions, expected = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_wait_ms=200)
assigned = [TopicPartition(topic, p) for p in range(partitions)]
consumer.assign(assigned)
consumer.seek_to_beginning(*assigned)
seen = 0
while seen < expected:  # the topic holds exactly `expected` events: its end
    for records in consumer.poll(timeout_ms=500, max_records=5000).values():
        seen += len(records)
consumer.close()
print(seen)
"""


def run(command: list[str], env: dict[str, str]) -> tuple[str, float]:
    """Run ``command`` to completion; its stdout and its wall time. Fails on a non-zero exit."""
    done, seconds = timed(lambda: subprocess.run(command, env=env, capture_output=True, text=True, check=False))
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout, seconds


def medians(command: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(run(command, env)[1] for _ in range(runs))


def consumed(stdout: str) -> int:
    found = re.search(r"ingest: (\d+) events consumed", stdout)
    return int(found.group(1)) if found else -1


def import_top(env: dict[str, str], count: int = 5) -> list[tuple[float, str]]:
    """The ``count`` slowest top-level imports of a no-op ingest (cumulative seconds, module)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", KOUIKI, "ingest"], env=env, capture_output=True, text=True, check=True
    )
    top = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("   "):
            top.append((int(parts[1]) / 1e6, parts[2].strip()))
    return sorted(top, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds; medians shown")
    parser.add_argument("--runs", type=int, default=5, help="runs of each fixed cost; medians shown")
    parser.add_argument("--seed", type=int, default=2034)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kouiki-bench-commands-"))
    settings = Settings(bootstrap_servers=f"127.0.0.1:{free_port()}", data_dir=work / "data")
    key = ensure_operator_key(settings)
    settings = dataclasses.replace(settings, key_id=key.key_id, key_secret=key.secret)
    env = os.environ | settings.environment()
    registry, reports = documents(args.reports + args.runs, args.seed)
    singles = [write_jsonl(work / f"one-{i}.jsonl", [doc]) for i, doc in enumerate(reports[args.reports :])]
    reports = reports[: args.reports]
    reg_file, rep_file = write_jsonl(work / "registry.jsonl", registry), write_jsonl(work / "reports.jsonl", reports)
    keys_file = work / "keys.txt"
    keys_file.write_text("".join(f"{r['project_code']}\n" for r in reports), encoding="utf-8")
    count = len(reports)
    del registry, reports
    max_request = str(settings.max_message_bytes + 64 * 1024)
    bare_produce = [sys.executable, "-c", BARE_PRODUCER, settings.bootstrap_servers, BARE_TOPIC]
    bare_produce += [str(rep_file), str(keys_file), max_request]
    partitions = str(TOPIC_PARTITIONS[REPORTS_TOPIC])
    bare_consume = [sys.executable, "-c", BARE_CONSUMER, settings.bootstrap_servers, REPORTS_TOPIC, partitions]
    rates: dict[str, list[float]] = {"submit": [], "produce": [], "ingest": [], "consume": []}
    fixed: dict[str, float] = {}
    try:
        for _ in range(args.rounds):
            broker.stop(settings)
            broker.start(settings)  # empty again: new topic ids, so a new epoch in the lake
            admin = clients.admin(settings)
            admin.create_topics([NewTopic(BARE_TOPIC, TOPIC_PARTITIONS[REPORTS_TOPIC], 1)])
            admin.close()
            if submit.submit([reg_file], settings).problems:
                raise SystemExit("the sample registry was refused")
            coordinator.land(settings, topics=[REGISTRY_TOPIC])
            _, seconds = run([KOUIKI, "submit", str(rep_file)], env)
            rates["submit"].append(count / seconds)
            _, seconds = run(bare_produce, env)
            rates["produce"].append(count / seconds)
            stdout, seconds = run([KOUIKI, "ingest"], env)
            if consumed(stdout) != count:
                raise SystemExit(f"kouiki ingest landed {consumed(stdout)} events, not {count}:\n{stdout}")
            rates["ingest"].append(count / seconds)
            _, seconds = run([*bare_consume, str(count)], env)
            rates["consume"].append(count / seconds)
        fixed["bare"] = medians([sys.executable, "-c", "pass"], env, args.runs)
        fixed["help"] = medians([KOUIKI, "--help"], env, args.runs)
        fixed["noop"] = medians([KOUIKI, "ingest"], env, args.runs)
        if consumed(run([KOUIKI, "ingest"], env)[0]) != 0:
            raise SystemExit("the no-op ingest found something to land")
        imports = import_top(env)  # while nothing is new, so it is the idle path's imports
        one_submit, one_ingest = [], []
        for path in singles:
            one_submit.append(run([KOUIKI, "submit", str(path)], env)[1])
            stdout, seconds = run([KOUIKI, "ingest"], env)
            if consumed(stdout) != 1:
                raise SystemExit(f"kouiki ingest landed {consumed(stdout)} events, not 1:\n{stdout}")
            one_ingest.append(seconds)
        fixed["one"], fixed["one_ingest"] = statistics.median(one_submit), statistics.median(one_ingest)
    finally:
        broker.stop(settings)
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\nmedians: fixed costs of {args.runs} runs, throughput of {args.rounds} rounds;"
        f" {os.cpu_count()}-core machine\n"
    )
    print(f"| {'command':<42} | {'kouiki':>10} | {'bare':>10} | {'bare is':<35} |")
    print(f"|{'-' * 44}|{'-' * 12}|{'-' * 12}|{'-' * 37}|")
    for name, ours in (
        ("kouiki --help", "help"),
        ("kouiki ingest, nothing new", "noop"),
        ("kouiki submit, 1 report", "one"),
        ("kouiki ingest, 1 new report", "one_ingest"),
    ):
        print(f"| {name:<42} | {fixed[ours]:>8.2f} s | {fixed['bare']:>8.2f} s | {'python -c pass':<35} |")
    for name, ours, bare, what in (
        (f"kouiki submit, {count:,} reports", "submit", "produce", "kafka-python producer, acks=all"),
        (f"kouiki ingest, {count:,} reports", "ingest", "consume", "kafka-python consumer, start to end"),
    ):
        ratio = statistics.median(rates[ours]) / statistics.median(rates[bare])
        print(
            f"| {name + f' (ratio {ratio:.2f})':<42} | {statistics.median(rates[ours]):>6,.0f} e/s |"
            f" {statistics.median(rates[bare]):>6,.0f} e/s | {what:<35} |"
        )
    print("\nslowest top-level imports of `kouiki ingest` with nothing new (python -X importtime, cumulative):")
    for seconds, module in imports:
        print(f"  {seconds * 1000:>6.0f} ms  {module}")


if __name__ == "__main__":
    main()
