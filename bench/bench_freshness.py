"""Freshness, hop by hop: how long one report takes from `kouiki submit` to a Superset chart's data,
with the national-scale sample loaded and the platform running hands off.

    .venv/bin/python bench/bench_freshness.py [--submissions 20] [--data-dir DIR]

Writes the national sample (80,290 reports) straight into a fresh lake, builds and publishes it, then
starts the whole platform (broker, portal, Airflow with its triggerer, Superset) on free loopback
ports, Airflow's metadata on a fresh PostgreSQL database. Nobody triggers anything: the event
trigger starts ``kouiki_ingest`` and Assets chain the transform and the publish. Then it sends
``--submissions`` single reports with ``kouiki submit``, spaced at random (5-40 s apart, seeded),
each a new version of an existing FY2025 report with every amount raised by 1,000 yen, and times:

    acknowledged  `kouiki submit` returned its receipt (topic, partition, offset)
    landed        a lake file holds that offset
    built         the end of the first successful kouiki_transform run that started after the landing
    published     the end of the kouiki_publish run that this transform's Asset event started
    visible       the 連携体別 投資額 chart's data (its own query, the cache a viewer hits) shows the
                  consortium's new totals

and prints p50/p95 of each hop and of the whole, against the goal p95 < 30 s end to end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_dashboards import percentile, write_lake

from kouiki.config import Settings
from kouiki.identity.signing_keys import ensure_operator_key
from kouiki.lake.layout import landed_ranges, partition_dir
from kouiki.messaging import clients
from kouiki.messaging.watermarks import topic_epochs
from kouiki.sample import national
from kouiki.services import airflow as airflow_service
from kouiki.services import local_stack
from kouiki.services.airflow_api import AirflowClient
from kouiki.services.processes import free_port
from kouiki.services.superset import api
from kouiki.warehouse.dbt import build
from kouiki.warehouse.publish import publish

GOAL_P95_S = 30.0
CHART = "6b6f7569-6b69-4000-8000-000000000053"  # 連携体別 投資額 (superset_assets/charts)
HOPS = ("acknowledged", "landed", "built", "published", "visible")
KOUIKI = str(Path(sys.executable).with_name("kouiki"))


def new_versions(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` new versions of FY2025 reports of different consortia, every amount + 1,000 yen."""
    picked: dict[str, dict[str, Any]] = {}
    for report in national.generate().reports:
        if report["period"].startswith("FY2025") and report["consortium_code"] not in picked and report["funding"]:
            picked[report["consortium_code"]] = report
    chosen = random.Random(seed).sample(  # noqa: S311 - a reproducible pick, not a secret
        sorted(picked.values(), key=lambda r: r["event_id"]), count
    )
    now = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    return [
        r
        | {
            "event_id": str(uuid.uuid4()),
            "version": r["version"] + 1,
            "submitted_at": now,
            "funding": [line | {"amount_jpy": line["amount_jpy"] + 1000} for line in r["funding"]],
        }
        for r in chosen
    ]


def chart_rows(client: api.ApiClient) -> dict[str, dict[str, Any]]:
    """The chart's rows by consortium: its own saved query, so the same cache as the dashboard."""
    return {row["consortium_code"]: row for row in client.chart_data(CHART)}


def landed(settings: Settings, epochs: dict[str, str], receipt: dict[str, Any]) -> bool:
    folder = partition_dir(settings.raw_dir, receipt["topic"], epochs[receipt["topic"]], receipt["partition"])
    return any(first <= receipt["offset"] <= last for first, last in landed_ranges(folder))


def first_run_after(client: AirflowClient, dag_id: str, after: float, timeout: float = 300.0) -> dict[str, Any]:
    """The first successful ``dag_id`` run that started at or after ``after`` (so read what was there)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [
            run
            for run in client.runs(dag_id, state="success")
            if run["start_date"] and _epoch(run["start_date"]) >= after
        ]
        if runs:
            return min(runs, key=lambda run: _epoch(run["start_date"]))
        time.sleep(0.5)
    raise SystemExit(f"no successful {dag_id} run started after {after} within {timeout:.0f} s")


def run_started_by(
    client: AirflowClient, dag_id: str, source: dict[str, Any], timeout: float = 300.0
) -> dict[str, Any]:
    """The successful ``dag_id`` run that the Asset event of the run ``source`` started."""
    wanted = (source["dag_id"], source["dag_run_id"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in client.runs(dag_id, state="success"):
            if wanted in client.upstream_runs(dag_id, run["dag_run_id"]):
                return run
        time.sleep(0.5)
    raise SystemExit(f"no successful {dag_id} run started by {wanted} within {timeout:.0f} s")


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.time()
        time.sleep(interval)
    raise SystemExit(f"{what} did not happen within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--airflow-db", default="kouiki_bench_freshness", help="PostgreSQL database, recreated")
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kouiki-bench-freshness-")) / "data"
    settings = Settings(
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        data_dir=data_dir,
        airflow_port=free_port(),
        superset_port=free_port(),
        portal_port=free_port(),
        airflow_db_url=f"postgresql+psycopg2://postgres@127.0.0.1:5432/{args.airflow_db}",
    )
    airflow_service.ensure_database(settings, fresh=True)
    print(write_lake(settings), flush=True)
    started = time.monotonic()
    build(settings)
    publish(settings)
    print(f"national sample built and published in {time.monotonic() - started:.1f} s", flush=True)
    key = ensure_operator_key(settings)
    settings = dataclasses.replace(settings, key_id=key.key_id, key_secret=key.secret)
    env = dict(settings.environment()) | {"PATH": str(Path(sys.executable).parent)}
    reports = new_versions(args.submissions, args.seed)
    pauses = random.Random(args.seed).choices(range(5, 41), k=args.submissions)  # noqa: S311 - spacing only
    timings: list[dict[str, float]] = []
    try:
        for line in local_stack.up(settings):
            print(line, flush=True)
        airflow = AirflowClient(settings)
        airflow.wait_for_dags()
        superset = api.admin_client(settings)
        admin = clients.admin(settings)
        epochs = topic_epochs(admin, ["kouiki.reports.v1"])
        admin.close()
        for i, (report, pause) in enumerate(zip(reports, pauses, strict=True), 1):
            time.sleep(pause)
            before = chart_rows(superset)[report["consortium_code"]]
            doc = Path(tempfile.mkdtemp()) / "report.jsonl"
            doc.write_text(json.dumps(report, ensure_ascii=False) + "\n", encoding="utf-8")
            sent = time.time()
            done = subprocess.run([KOUIKI, "submit", str(doc)], env=env, capture_output=True, text=True, check=True)
            acknowledged = time.time()
            receipt = json.loads(done.stdout.splitlines()[0])
            landed_at = wait_for(lambda r=receipt: landed(settings, epochs, r), 120, "landing")
            transform_run = first_run_after(airflow, "kouiki_transform", landed_at)
            publish_run = run_started_by(airflow, "kouiki_publish", transform_run)
            built, published = _epoch(transform_run["end_date"]), _epoch(publish_run["end_date"])
            code = report["consortium_code"]
            visible = wait_for(lambda c=code, b=before: chart_rows(superset).get(c) != b, 120, "chart", interval=0.25)
            hops = {
                "acknowledged": acknowledged - sent,
                "landed": landed_at - acknowledged,
                "built": built - landed_at,
                "published": published - built,
                "visible": visible - published,
                "end to end": visible - sent,
            }
            timings.append(hops)
            print(f"{i:>2}/{len(reports)} " + "  ".join(f"{k} {v:5.1f} s" for k, v in hops.items()), flush=True)
    finally:
        for line in local_stack.down(settings):
            print(line, flush=True)

    print(f"\n{len(timings)} single-report submissions, national-scale sample, hands off\n")
    print(f"| {'hop':<14} | {'p50':>7} | {'p95':>7} |")
    print(f"|{'-' * 16}|{'-' * 9}|{'-' * 9}|")
    for hop in (*HOPS, "end to end"):
        values = [t[hop] for t in timings]
        print(f"| {hop:<14} | {statistics.median(values):>5.1f} s | {percentile(values, 0.95):>5.1f} s |")
    p95 = percentile([t["end to end"] for t in timings], 0.95)
    print(f"\ngoal: p95 end to end < {GOAL_P95_S:.0f} s: {'met' if p95 < GOAL_P95_S else 'NOT met'} ({p95:.1f} s)")


if __name__ == "__main__":
    main()
