"""Benchmark a full ``dbt build`` on the national-scale dataset.

    .venv/bin/python bench/bench_dbt.py [--data-dir DIR] [--rebuild] [--scale N]

Generates the dataset into ``DIR/lake/raw`` if it is missing (kouiki.sample.national), removes the
warehouse so the build starts from nothing, runs ``dbt build`` through kouiki.warehouse, and prints
the wall time and the ten slowest models and tests from ``DIR/dbt/target/run_results.json``.
``--rebuild`` then builds a second time on the same warehouse (incremental models only parse what
is new, here nothing) and prints that too. ``--scale N`` generates N times the national sample's
consortia (200 × N, each with 10 projects), for the scale-out figures in docs/operations.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from kouiki.config import Settings
from kouiki.sample import national
from kouiki.warehouse.dbt import dbt

DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "kouiki-bench"


def ensure_dataset(settings: Settings, scale: int = 1) -> None:
    if any(settings.raw_dir.glob("*/epoch=*/partition=*/*.parquet")):
        print(f"dataset    {settings.raw_dir} (existing)")
        return
    started = time.monotonic()
    dataset = national.generate(consortia=200 * scale)
    files = national.write_to_lake(settings.raw_dir, dataset.documents())
    print(
        f"dataset    {len(dataset.registry):,} registry + {len(dataset.reports):,} report events, "
        f"{len(files)} files in {time.monotonic() - started:.1f} s"
    )


def run_build(settings: Settings, label: str) -> float:
    started = time.monotonic()
    proc = dbt(settings, "build")
    wall = time.monotonic() - started
    done = [line.strip() for line in proc.stdout.splitlines() if "Done. PASS=" in line]
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"dbt build failed (exit {proc.returncode})")
    print(f"\n{label}: wall {wall:.1f} s   {done[-1].split('  ')[-1] if done else ''}")
    print_slowest(settings.data_dir / "dbt" / "target" / "run_results.json")
    return wall


def print_slowest(run_results: Path, count: int = 10) -> None:
    results = json.loads(run_results.read_text(encoding="utf-8"))
    print(f"dbt elapsed {results['elapsed_time']:.1f} s over {len(results['results'])} nodes; slowest:")
    print(f"  {'seconds':>8}  {'type':<10} name")
    for node in sorted(results["results"], key=lambda r: -r["execution_time"])[:count]:
        kind, _project, name = node["unique_id"].split(".")[:3]
        print(f"  {node['execution_time']:8.2f}  {kind:<10} {name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--rebuild", action="store_true", help="also time a second build on the same warehouse")
    parser.add_argument("--scale", type=int, default=1, help="N times the national sample's consortia")
    args = parser.parse_args(argv)
    settings = Settings(bootstrap_servers="127.0.0.1:9", data_dir=args.data_dir.resolve(), max_message_bytes=1 << 20)
    ensure_dataset(settings, args.scale)
    for path in (settings.warehouse_path, Path(f"{settings.warehouse_path}.wal")):
        path.unlink(missing_ok=True)
    run_build(settings, "full build (empty warehouse)")
    if args.rebuild:
        run_build(settings, "rebuild (incremental, no new events)")


if __name__ == "__main__":
    main()
