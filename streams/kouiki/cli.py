"""The ``kouiki`` command line: one entry point for secretariats, operators and the DAGs' logic.

Each command imports what it needs when it runs, so ``kouiki --help`` and argument errors answer
without loading Kafka, Arrow or DuckDB."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from kouiki.config import ConfigError, Settings


def _cmd_broker(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.services import broker

    if args.action == "start":
        pid = broker.start(settings)
        print(f"broker: running, pid {pid}, {settings.bootstrap_servers}")
    elif args.action == "stop":
        print("broker: stopped" if broker.stop(settings) else "broker: was not running")
    else:
        print(broker.status(settings))
    return 0


def _cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.intake import submit

    outcome = submit.submit(
        args.paths,
        settings,
        dry_run=args.dry_run,
        all_or_nothing=args.all_or_nothing,
        submitted_by=args.submitted_by,
        progress=submit.print_progress,
        key_id=args.key_id,
        secret=args.secret,
    )
    for problem in outcome.problems:
        print(f"error: {problem}", file=sys.stderr)
    for receipt in outcome.receipts:
        print(json.dumps(receipt.__dict__, ensure_ascii=False))
    valid = len(outcome.prepared)
    if args.dry_run:
        verb = "would be sent (dry run)"
    elif outcome.problems and args.all_or_nothing:
        verb = "sent: none, because of --all-or-nothing"
    else:
        verb = f"sent: {len(outcome.receipts)}"
    print(
        f"checked {outcome.checked} documents: {valid} valid, {len(outcome.problems)} problems; {verb}", file=sys.stderr
    )
    return 1 if outcome.problems else 0


def _cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.landing.coordinator import land

    landed = land(settings, from_timestamp=args.from_timestamp)
    for (topic, epoch, partition), counts in sorted(landed.counts.items()):
        print(
            f"{topic}[{partition}] epoch={epoch}: consumed {counts['consumed']}, landed "
            f"{counts['landed']}, dead-lettered {counts['dead_lettered']} in {counts['files']} files"
        )
    print(f"ingest: {landed.consumed} events consumed")
    return 0


def _cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.landing import status

    print(status.render(status.collect(settings)))
    return 0


def _cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.sample.generator import generate

    out = args.out or settings.data_dir / "sample"
    sample = generate(seed=args.seed, quarters=args.quarters)
    for path in sample.write(out):
        print(path)
    return 0


def _cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.warehouse.dbt import build
    from kouiki.warehouse.publish import publish

    result = build(settings, select=args.select)
    print(f"dbt build: {result.summary} in {result.seconds:.1f} s")
    if not args.no_publish:
        print(f"published {publish(settings)}")
    return 0


def _cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.warehouse.publish import publish

    print(f"published {publish(settings)}")
    return 0


def _cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.services import local_stack

    for line in local_stack.up(settings):
        print(line)
    return 0


def _cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.services import local_stack

    for line in local_stack.down(settings):
        print(line)
    return 0


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.services import local_stack

    for line in local_stack.demo(settings, seed=args.seed):
        print(line, flush=True)
    return 0


def _timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > datetime.now(UTC):
        raise argparse.ArgumentTypeError(f"{text} is in the future: there is nothing to replay")
    return moment


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kouiki", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("broker", help="run the local Kafka-protocol broker")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.set_defaults(func=_cmd_broker)

    p = sub.add_parser("submit", help="validate report files (JSON, JSONL, CSV) and send them")
    p.add_argument("paths", nargs="+", type=Path, help="files or folders")
    p.add_argument("--dry-run", action="store_true", help="validate only, send nothing")
    p.add_argument("--all-or-nothing", action="store_true", help="send nothing if any document is invalid")
    p.add_argument("--submitted-by", default=None, help="for CSV sheets: who submits (default: user@host)")
    p.add_argument("--key-id", default=None, help="the signing key's id (default: KOUIKI_KEY_ID)")
    p.add_argument("--secret", default=None, help="the signing key's secret (default: KOUIKI_KEY_SECRET)")
    p.set_defaults(func=_cmd_submit)

    p = sub.add_parser("ingest", help="land what is on the topics now into the raw lake")
    p.add_argument(
        "--from-timestamp",
        type=_timestamp,
        default=None,
        metavar="ISO8601",
        help="replay from this time into a new epoch (existing lake files are kept)",
    )
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("status", help="per topic and partition: end offset, landed offset, lag, dead letters")
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser("build", help="dbt build over the lake, then publish serving.duckdb")
    p.add_argument("--select", default=None, help="dbt node selection (default: everything)")
    p.add_argument("--no-publish", action="store_true", help="build the warehouse only")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("publish", help="publish warehouse.duckdb as serving.duckdb (atomic rename)")
    p.set_defaults(func=_cmd_publish)

    p = sub.add_parser("up", help="start the local platform: broker, Airflow, Superset")
    p.set_defaults(func=_cmd_up)

    p = sub.add_parser("down", help="stop every local service")
    p.set_defaults(func=_cmd_down)

    p = sub.add_parser("demo", help="run the whole platform on sample data and print the dashboard URL")
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("sample", help="write deterministic synthetic registry and report files")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--quarters", type=int, default=6, help="fiscal quarters from FY2025Q1")
    p.add_argument("--out", type=Path, default=None, help="default: <data dir>/sample")
    p.set_defaults(func=_cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args, Settings.from_env()))
    except Exception as exc:
        from kouiki.services.processes import ServiceError
        from kouiki.warehouse.dbt import BuildError

        if not isinstance(exc, ServiceError | BuildError | ConfigError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
