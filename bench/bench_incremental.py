"""Benchmark the incremental warehouse path on the national-scale dataset.

    .venv/bin/python bench/bench_incremental.py [--data-dir DIR]

Builds the national dataset into ``DIR/lake/raw`` if missing (as bench_dbt does) and copies its lake
to ``DIR-incremental``, where it works, so the dataset itself stays as generated. Then times, each
through kouiki.warehouse as ``kouiki build`` runs it:

* the full rebuild (``dbt build --full-refresh``: seeds, every model, every test) and its publish;
* the bare baselines of the same machine and moment: ``dbt --version`` (the interpreter and dbt's
  imports), ``dbt parse`` (loading the project, partial parsing, nothing changed) and a ``dbt run``
  of one small table (start-up, the on-run-start hook, one node);
* one new report landed: a later version of an existing report, written as its own Parquet file at
  the partition's next offset the way the lander writes a batch; then the incremental build in a
  new dbt process (a bare ``kouiki build``) and the publish;
* the warm dbt worker the platform runs (kouiki.services.dbt_worker): its start, the same small
  table, and another new report built in it and published (the platform's path), with the slowest
  nodes of that run and how its wall time splits into start-up and models;
* an incremental build with nothing new.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from kouiki.config import Settings
from kouiki.lake import files as lake
from kouiki.messaging.topics import REPORTS_TOPIC
from kouiki.sample import national
from kouiki.services import dbt_worker
from kouiki.warehouse.dbt import build, dbt
from kouiki.warehouse.publish import publish

ONE_TABLE = "int_consortia_latest"


def ensure_dataset(settings: Settings) -> None:
    if any(settings.raw_dir.glob("*/epoch=*/partition=*/*.parquet")):
        print(f"dataset    {settings.raw_dir} (existing)")
        return
    dataset = national.generate()
    files = national.write_to_lake(settings.raw_dir, dataset.documents())
    print(f"dataset    {len(dataset.reports):,} reports in {len(files)} files under {settings.raw_dir}")


def land_later_version(settings: Settings) -> tuple[Path, str]:
    """Land version n+1 of the newest report of reports partition 0 as a one-row batch file."""
    folder = next(settings.raw_dir.glob(f"{REPORTS_TOPIC}/epoch=*/partition=0"))
    last_file = folder / "{:012d}-{:012d}.parquet".format(*lake.landed_ranges(folder)[-1])
    table = pq.read_table(last_file, columns=["_epoch", "_value"])
    doc: dict[str, Any] = json.loads(table.column("_value")[-1].as_py())
    doc.update(event_id=str(uuid.uuid4()), version=doc["version"] + 1)
    now = datetime.now(UTC)
    row = lake.Row(
        topic=REPORTS_TOPIC,
        epoch=table.column("_epoch")[-1].as_py(),
        partition=0,
        offset=lake.next_offset(folder),
        kafka_ts=now,
        key=doc["project_code"],
        value=json.dumps(doc, ensure_ascii=False).encode(),
        ingested_at=now,
        status=lake.LANDED,
    )
    return lake.write_batch(folder, [row]), f"{doc['project_code']} {doc['period']} v{doc['version']}"


def timed(label: str, results: list[tuple[str, float]], action: Any) -> Any:
    started = time.monotonic()
    value = action()
    results.append((label, time.monotonic() - started))
    return value


def dbt_ok(settings: Settings, *args: str) -> None:
    proc = dbt(settings, *args)
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"dbt {' '.join(args)} failed (exit {proc.returncode})")


def split_of_last_run(settings: Settings, wall: float) -> list[str]:
    """Where the incremental run's wall time went, from run_results.json and dbt.log."""
    results = json.loads((settings.data_dir / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8"))
    nodes = sorted(results["results"], key=lambda r: -r["execution_time"])
    lines = [
        f"  wall {wall:.2f} s = dbt start-up and parse {wall - results['elapsed_time']:.2f} s"
        f" + run {results['elapsed_time']:.2f} s ({len(nodes)} nodes, 2 threads;"
        f" node time summed {sum(r['execution_time'] for r in nodes):.2f} s)",
        f"  {'seconds':>8}  node",
    ]
    lines += [f"  {r['execution_time']:8.2f}  {r['unique_id'].split('.')[-1]}" for r in nodes[:12]]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("KOUIKI_DATA_DIR", "data")) / "bench-national"
    parser.add_argument("--data-dir", type=Path, default=default)
    args = parser.parse_args(argv)
    dataset = Settings(bootstrap_servers="127.0.0.1:9", data_dir=args.data_dir.resolve(), max_message_bytes=1 << 20)
    ensure_dataset(dataset)
    work = args.data_dir.resolve().with_name(f"{args.data_dir.name}-incremental")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(dataset.raw_dir, work / dataset.raw_dir.relative_to(dataset.data_dir))
    settings = Settings(bootstrap_servers="127.0.0.1:9", data_dir=work, max_message_bytes=1 << 20)
    results: list[tuple[str, float]] = []
    timed("full rebuild: dbt build --full-refresh", results, lambda: build(settings, full_refresh=True))
    timed("  publish (copy + fsync + rename)", results, lambda: publish(settings))
    size = settings.warehouse_path.stat().st_size
    bare = [str(settings.venv_executable(".venv-dbt", "dbt")), "--version"]
    timed("dbt --version (bare start-up)", results, lambda: subprocess.run(bare, capture_output=True, check=True))
    timed("dbt parse (partial parsing, no change)", results, lambda: dbt_ok(settings, "parse"))
    timed("dbt run of one small table", results, lambda: dbt_ok(settings, "run", "--select", ONE_TABLE))
    landed, what = land_later_version(settings)
    print(f"landed     {what} as {landed.relative_to(settings.raw_dir)}")
    timed("one new report: incremental dbt run, new dbt process", results, lambda: build(settings))
    timed("  publish (copy + fsync + rename)", results, lambda: publish(settings))
    results.append(("  transform + publish, new dbt process", results[-1][1] + results[-2][1]))
    timed("warm dbt worker: start (imports, parse, warm-up)", results, lambda: dbt_worker.start(settings, wait=300))
    try:
        timed(
            "warm dbt worker: dbt run of one small table",
            results,
            lambda: dbt_ok(settings, "run", "--select", ONE_TABLE),
        )
        landed, what = land_later_version(settings)
        print(f"landed     {what} as {landed.relative_to(settings.raw_dir)}")
        incremental = timed("one new report: incremental dbt run, warm worker", results, lambda: build(settings))
        split = split_of_last_run(settings, results[-1][1])
        timed("  publish (copy + fsync + rename)", results, lambda: publish(settings))
        results.append(("one new report: transform + publish, warm worker", results[-1][1] + results[-2][1]))
        timed("nothing new: incremental dbt run, warm worker", results, lambda: build(settings))
    finally:
        dbt_worker.stop(settings)
    print(f"\nwarehouse  {size / 1e6:,.0f} MB;  incremental run: {incremental.summary}\n")
    print(f"  {'seconds':>8}  step")
    for label, seconds in results:
        print(f"  {seconds:8.2f}  {label}")
    print("\nthe incremental run after one new report, in the warm worker:")
    print("\n".join(split))


if __name__ == "__main__":
    main()
