"""Chart query latency of every dashboard chart on the national-scale dataset.

Writes the national sample (200 consortia, 2,000 projects, FY2025–FY2034) into a fresh lake under
--data-dir, builds and publishes the warehouse, boots Superset on a free port and times each chart's
query through the chart-data API with ``force: true`` (cache bypassed). Prints median and p95 per
chart; the target is p95 < 200 ms.

    .venv/bin/python bench/bench_dashboards.py --data-dir /tmp/kouiki-bench
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from kouiki.config import Settings
from kouiki.sample import national
from kouiki.services.processes import free_port
from kouiki.services.superset import api, bundle, deploy, process
from kouiki.warehouse.dbt import build
from kouiki.warehouse.publish import publish

TARGET_P95_MS = 200.0


def write_lake(settings: Settings) -> str:
    """The national sample, written straight into the lake."""
    dataset = national.generate()
    national.write_to_lake(settings.raw_dir, dataset.documents())
    return f"kouiki.sample.national: {len(dataset.registry)} registry and {len(dataset.reports)} report events"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def chart_request(client: api.ApiClient, chart: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The request the dashboard makes for one chart: chart-data API, or explore_json for legacy vizzes."""
    if chart.get("query_context"):
        return "/api/v1/chart/data", json.loads(chart["query_context"]) | {"force": True}
    form_data = json.loads(chart["params"]) | {
        "datasource": f"{chart['datasource_id']}__table",
        "slice_id": chart["id"],
    }
    return "/superset/explore_json/?force=true", {"form_data": json.dumps(form_data)}


def time_chart(client: api.ApiClient, chart: dict[str, Any], runs: int) -> tuple[list[float], int]:
    path, body = chart_request(client, chart)
    legacy = path.startswith("/superset/")
    timings, rows = [], 0
    for _ in range(runs + 1):  # the first run warms the worker and is not counted
        started = time.perf_counter()
        response = client.request("POST", path, data=body) if legacy else client.request("POST", path, json=body)
        timings.append((time.perf_counter() - started) * 1000)
        payload = response.json()
        rows = len(payload.get("data") or []) if legacy else len(payload["result"][0]["data"])
    return timings[1:], rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep an already published serving file")
    args = parser.parse_args(argv)
    settings = Settings(bootstrap_servers="127.0.0.1:1", data_dir=args.data_dir.resolve(), superset_port=free_port())
    if not (args.reuse and settings.serving_path.exists()):
        print(write_lake(settings), flush=True)
        started = time.monotonic()
        result = build(settings)
        publish(settings)
        print(f"dbt build + publish: {time.monotonic() - started:.0f} s ({result.summary})", flush=True)
    deploy.bootstrap(settings)
    deploy.start(settings)
    try:
        client = api.admin_client(settings, legacy=True)
        print(f"\n{'chart':<44} {'rows':>6} {'median ms':>10} {'p95 ms':>8}")
        slow = []
        for chart_uuid in bundle.bundle_uuids("charts"):
            chart = client.chart(chart_uuid)
            timings, rows = time_chart(client, chart, args.runs)
            median, p95 = statistics.median(timings), percentile(timings, 0.95)
            print(f"{chart['slice_name']:<44} {rows:>6} {median:>10.0f} {p95:>8.0f}", flush=True)
            if p95 >= TARGET_P95_MS:
                slow.append(chart["slice_name"])
        print(
            f"\n{len(slow)} chart(s) at or over p95 {TARGET_P95_MS:.0f} ms: {slow}"
            if slow
            else f"\nevery chart under p95 {TARGET_P95_MS:.0f} ms"
        )
        return 1 if slow else 0
    finally:
        process.stop(settings)


if __name__ == "__main__":
    sys.exit(main())
