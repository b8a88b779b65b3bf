"""The ``kouiki`` command line: one entry point for secretariats, operators and the DAGs' logic.

Each command imports what it needs when it runs, so ``kouiki --help`` and argument errors answer
without loading Kafka, Arrow or DuckDB."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from kouiki.config import ConfigError, Settings


def _cmd_broker(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.services import broker, local_stack

    if args.action == "start":
        pid = local_stack.start_broker(settings)  # restarts Airflow's triggerer with a new broker
        print(f"broker: running, pid {pid}, {settings.bootstrap_servers}")
    elif args.action == "stop":
        print("broker: stopped" if broker.stop(settings) else "broker: was not running")
    else:
        print(broker.status(settings))
    return 0


def _cmd_portal(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.services import portal

    if args.action == "start":
        pid = portal.start(settings)
        print(f"portal: running, pid {pid}, {portal.base_url(settings)} (API docs: {portal.base_url(settings)}/docs)")
    elif args.action == "stop":
        print("portal: stopped" if portal.stop(settings) else "portal: was not running")
    else:
        print(portal.status(settings))
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
    if outcome.receipts:  # one JSON line each; encoded in one go, as a submission may hold 100,000
        import msgspec

        encode = msgspec.json.Encoder().encode
        sys.stdout.flush()
        sys.stdout.buffer.write(b"".join(encode(receipt) + b"\n" for receipt in outcome.receipts))
        sys.stdout.flush()
    valid = len(outcome.prepared)
    if args.dry_run:
        verb = "nothing sent (dry run)"
    elif outcome.problems and args.all_or_nothing:
        verb = "sent: none, because of --all-or-nothing"
    else:
        verb = f"sent: {len(outcome.receipts)}"
    print(
        f"checked {outcome.checked} documents: {valid} valid, {len(outcome.problems)} problems; {verb}", file=sys.stderr
    )
    return 1 if outcome.problems else 0


def _cmd_template(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.intake import template

    if args.kind == "report":
        content = template.report_workbook(settings, args.consortium, args.period)
        default = f"報告様式_{args.consortium}_{args.period}.xlsx"
    else:
        content = template.registration_workbook(args.consortium)
        default = f"事業登録様式_{args.consortium}.xlsx"
    out: Path = args.out or Path(default)
    out.write_bytes(content)
    print(out)
    return 0


def _quarter(text: str) -> str:
    from kouiki.contract.periods import parse_quarter

    try:
        parse_quarter(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.landing.idle import look

    plan = look(settings) if args.from_timestamp is None else None
    if plan is not None and plan.idle(settings):
        print("ingest: 0 events consumed (every partition is landed to its end)")
        return 0
    from kouiki.landing.coordinator import land

    landed = land(settings, from_timestamp=args.from_timestamp, plan=plan)
    for (topic, epoch, partition), counts in sorted(landed.counts.items()):
        print(
            f"{topic}[{partition}] epoch={epoch}: consumed {counts['consumed']}, landed "
            f"{counts['landed']}, dead-lettered {counts['dead_lettered']} in {counts['files']} files"
        )
    print(f"ingest: {landed.consumed} events consumed")
    for entry in landed.stuck:
        print(f"error: {entry.describe()}", file=sys.stderr)
    if landed.stuck:
        from kouiki.landing.stuck import alert_message
        from kouiki.orchestration.alerts import Alert, record_alert

        now = datetime.now(UTC).isoformat(timespec="seconds")
        record_alert(settings, Alert(now, "cli", "ingest", f"manual__{now}", None, alert_message(landed.stuck), None))
        print(
            "error: 他のパーティションは取り込み済みです。調査して `kouiki quarantine` で退避してください"
            " / every other partition was landed; investigate, then set the batch aside with `kouiki quarantine`"
            " (docs/operations.md)",
            file=sys.stderr,
        )
        return 1
    return 0


def _cmd_quarantine(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.landing.quarantine import QuarantineError, quarantine

    try:
        record = quarantine(settings, args.topic, args.partition, args.offset, args.reason)
    except QuarantineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(record.__dict__, ensure_ascii=False))
    print(
        f"quarantined {record.topic}[{record.partition}] offsets {record.base_offset}-{record.last_offset} "
        f"({record.records} records, sha256 {record.sha256}) to {record.file}; dead-lettered; "
        "the next `kouiki ingest` resumes after the batch"
    )
    return 0


def _cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.landing import status, stuck

    print(status.render(status.collect(settings), stuck.load(settings)))
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

    result = build(settings, select=args.select, full_refresh=args.full_refresh)
    how = "build --full-refresh" if result.full else "run (incremental)"
    where = "the warm dbt worker" if result.warm else "a new dbt process"
    print(f"dbt {how}: {result.summary} in {result.seconds:.1f} s, in {where}")
    if not args.no_publish:
        print(f"published {publish(settings)}")
    return 0


def _cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.warehouse.publish import publish

    print(f"published {publish(settings)}")
    return 0


def _cmd_superset_configure(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.services.superset.deploy import configure
    from kouiki.services.superset.process import base_url

    applied = configure(settings)
    print(
        f"{base_url(settings)}: charts linked; roles: Cabinet Office and {len(applied['secretariat_roles'])} "
        f"secretariats with row-level security; {len(applied['users'])} users from the Kouiki directory"
    )
    return 0


def _cmd_open_data(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.open_data.errors import OpenDataError
    from kouiki.open_data.snapshot import write_snapshot

    try:
        snapshot = write_snapshot(settings, out=args.out, as_of=args.as_of)
    except OpenDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for table, rows in snapshot.rows.items():
        print(f"{table}: {rows:,} rows")
    print(snapshot.describe())
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


def _moment(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}Z"


def _cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.identity import users
    from kouiki.identity.principal import CABINET, OPERATOR, SECRETARIAT

    if args.action == "add":
        kind = OPERATOR if args.operator else CABINET if args.cabinet else SECRETARIAT
        new = users.add_user(settings, args.name, kind, args.consortium or [], email=args.email)
        if args.json:
            print(json.dumps({"username": new.username, "password": new.password, "token": new.token}))
        else:
            print(f"user {new.username} ({kind}) added; shown once, keep them now:")
            print(f"  password (web login): {new.password}")
            print(f"  token (REST API):     {new.token}")
    elif args.action == "revoke":
        users.revoke_user(settings, args.name)
        print(f"user {args.name} revoked, with every token of theirs")
    elif args.action == "set-email":
        address = None if args.remove else args.address
        users.set_email(settings, args.name, address)
        print(f"user {args.name}: e-mail {address or 'removed'}")
    else:
        listed = users.list_users(settings)
        if args.json:
            rows = [
                {
                    "username": u.username,
                    "kind": u.kind,
                    "consortia": list(u.consortia),
                    "created_at": u.created_at.isoformat(),
                    "revoked_at": u.revoked_at.isoformat() if u.revoked_at else None,
                    "active_tokens": u.active_tokens,
                    "email": u.email,
                }
                for u in listed
            ]
            print(json.dumps(rows, ensure_ascii=False))
        else:
            print(f"{'username':<24} {'kind':<12} {'created':<17} {'revoked':<17} tokens  {'consortia':<24} e-mail")
            for u in listed:
                print(
                    f"{u.username:<24} {u.kind:<12} {_moment(u.created_at):<17} {_moment(u.revoked_at):<17} "
                    f"{u.active_tokens:>6}  {','.join(u.consortia) or '-':<24} {u.email or '-'}"
                )
    return 0


def _cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.identity import signing_keys
    from kouiki.identity.keys import OPERATOR_SCOPE

    if args.action == "add":
        new = signing_keys.add_key(settings, OPERATOR_SCOPE if args.operator else args.consortium)
        if args.json:
            print(json.dumps({"key_id": new.key_id, "secret": new.secret}))
        else:
            print("key added; the secret is shown once, keep it now:")
            print(f"  key id: {new.key_id}")
            print(f"  secret: {new.secret}")
    elif args.action == "revoke":
        signing_keys.revoke_key(settings, args.key_id)
        print(f"key {args.key_id} revoked: events signed with it from now on are dead-lettered")
    else:
        listed = signing_keys.list_keys(settings)
        if args.json:
            rows = [
                {
                    "key_id": k.key_id,
                    "scope": k.scope,
                    "created_at": k.created_at.isoformat(),
                    "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                }
                for k in listed
            ]
            print(json.dumps(rows))
        else:
            print(f"{'key id':<40} {'scope':<16} {'created':<17} revoked")
            for k in listed:
                print(f"{k.key_id:<40} {k.scope:<16} {_moment(k.created_at):<17} {_moment(k.revoked_at)}")
    return 0


def _cmd_notices(args: argparse.Namespace, settings: Settings) -> int:
    from kouiki.notices.notice import today

    day = args.today or today()
    if args.action == "send":
        from kouiki.notices.digests import send_digests

        for line in send_digests(settings, day).lines():
            print(line)
        return 0
    from kouiki.notices.listing import all_notices, notices_for

    found = notices_for(settings, args.consortium, day) if args.consortium else all_notices(settings, day)
    print(f"{'date':<10}  {'kind':<14} {'consortium':<14} {'project':<18} {'period':<9} notice")
    for n in found:
        print(
            f"{n.day.isoformat():<10}  {n.kind:<14} {n.consortium_code or '-':<14} {n.project_code or '-':<18} "
            f"{n.period or '-':<9} {n.title_ja} / {n.title_en}"
        )
    print(f"{len(found)} notices on {day.isoformat()}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2027-01-25") from exc


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

    p = sub.add_parser("portal", help="run the REST gateway (authenticated submissions) on 127.0.0.1")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.set_defaults(func=_cmd_portal)

    p = sub.add_parser("submit", help="validate report files (JSON, JSONL, CSV, XLSX) and send them")
    p.add_argument("paths", nargs="+", type=Path, help="files or folders")
    p.add_argument("--dry-run", action="store_true", help="validate only, send nothing")
    p.add_argument("--all-or-nothing", action="store_true", help="send nothing if any document is invalid")
    p.add_argument("--submitted-by", default=None, help="for CSV and XLSX sheets: who submits (default: user@host)")
    p.add_argument("--key-id", default=None, help="the signing key's id (default: KOUIKI_KEY_ID)")
    p.add_argument("--secret", default=None, help="the signing key's secret (default: KOUIKI_KEY_SECRET)")
    p.set_defaults(func=_cmd_submit)

    p = sub.add_parser("template", help="write an Excel template: a quarterly report or a project registration")
    kinds = p.add_subparsers(dest="kind", required=True)
    q = kinds.add_parser("report", help="the report template, pre-filled with the consortium's registered projects")
    q.add_argument("--consortium", required=True, metavar="CODE")
    q.add_argument("--period", required=True, type=_quarter, metavar="FY2026Q3")
    q.add_argument("-o", "--out", type=Path, default=None, help="default: 報告様式_<CODE>_<PERIOD>.xlsx here")
    q = kinds.add_parser("registration", help="a blank project registration template")
    q.add_argument("--consortium", required=True, metavar="CODE")
    q.add_argument("-o", "--out", type=Path, default=None, help="default: 事業登録様式_<CODE>.xlsx here")
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser("ingest", help="land what is on the topics now into the raw lake")
    p.add_argument(
        "--from-timestamp",
        type=_timestamp,
        default=None,
        metavar="ISO8601",
        help="replay from this time into a new epoch (existing lake files are kept)",
    )
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser(
        "quarantine", help="set aside the record batch a stuck partition cannot be read past (docs/operations.md)"
    )
    p.add_argument("--topic", required=True)
    p.add_argument("--partition", required=True, type=int)
    p.add_argument("--offset", required=True, type=int, help="the stuck offset shown by `kouiki status`")
    p.add_argument("--reason", default="unreadable record batch", metavar="TEXT", help="why, for the record")
    p.set_defaults(func=_cmd_quarantine)

    p = sub.add_parser("status", help="per topic and partition: end offset, landed offset, lag, dead letters")
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser("build", help="dbt over what landed since the last build, then publish serving.duckdb")
    p.add_argument("--select", default=None, help="dbt node selection (default: everything)")
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every model from the whole lake and run every test (after a dbt project change)",
    )
    p.add_argument("--no-publish", action="store_true", help="build the warehouse only")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("publish", help="publish warehouse.duckdb as serving.duckdb (atomic rename)")
    p.set_defaults(func=_cmd_publish)

    p = sub.add_parser(
        "open-data",
        help="write the open data snapshot of the latest quarter due (CSV, Parquet, datapackage.json), once",
    )
    p.add_argument("--out", type=Path, default=None, help="default: <data dir>/open_data")
    p.add_argument(
        "--as-of",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="the snapshot is of the latest quarter whose reports are due by then (default: today in Japan)",
    )
    p.set_defaults(func=_cmd_open_data)

    p = sub.add_parser("superset", help="keep a Superset in step with Kouiki (compose's superset-security service)")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser(
        "configure",
        help="link the imported charts, apply roles, row-level security and users as `kouiki up` does, "
        "to the Superset at KOUIKI_SUPERSET_URL (else the local one)",
    )
    q.set_defaults(func=_cmd_superset_configure)

    p = sub.add_parser("up", help="start the local platform: broker, portal, Airflow, Superset")
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

    p = sub.add_parser("users", help="secretariats, Cabinet Office and operators: add, list, set-email, revoke")
    users = p.add_subparsers(dest="action", required=True)
    q = users.add_parser("add", help="add a user; prints the password and token once")
    q.add_argument("name")
    who = q.add_mutually_exclusive_group(required=True)
    who.add_argument("--consortium", action="append", metavar="CODE", help="a secretariat of CODE (repeatable)")
    who.add_argument("--cabinet", action="store_true", help="a Cabinet Office user (reads everything)")
    who.add_argument("--operator", action="store_true", help="an operator (runs the platform)")
    q.add_argument("--email", metavar="ADDRESS", default=None, help="where notice digests go (secretariats)")
    q.add_argument("--json", action="store_true", help='print {"username", "password", "token"}')
    q = users.add_parser("set-email", help="set or change (or --remove) the e-mail address of a user")
    q.add_argument("name")
    address = q.add_mutually_exclusive_group(required=True)
    address.add_argument("address", nargs="?", default=None)
    address.add_argument("--remove", action="store_true", help="no more e-mail to this user")
    q = users.add_parser("list", help="every user with their e-mail address (never a password or token)")
    q.add_argument("--json", action="store_true")
    q = users.add_parser("revoke", help="revoke a user and their tokens")
    q.add_argument("name")
    p.set_defaults(func=_cmd_users)

    p = sub.add_parser("notices", help="what secretariats must act on: list them, send the daily e-mail digest")
    notices = p.add_subparsers(dest="action", required=True)
    q = notices.add_parser("list", help="dead letters and reports due or overdue, newest first")
    q.add_argument("--consortium", action="append", metavar="CODE", help="only this consortium (repeatable)")
    q.add_argument("--today", type=_day, default=None, metavar="YYYY-MM-DD", help="default: today in Japan")
    q = notices.add_parser("send", help="e-mail today's digest to each consortium's secretariats (once a day)")
    q.add_argument("--today", type=_day, default=None, metavar="YYYY-MM-DD", help="default: today in Japan")
    p.set_defaults(func=_cmd_notices)

    p = sub.add_parser("keys", help="signing keys of consortia and operators: add, list, revoke")
    keys = p.add_subparsers(dest="action", required=True)
    q = keys.add_parser("add", help="add a signing key; prints its secret once")
    scope = q.add_mutually_exclusive_group(required=True)
    scope.add_argument("--consortium", metavar="CODE", help="a key that writes for consortium CODE")
    scope.add_argument("--operator", action="store_true", help="an operator key (writes anything)")
    q.add_argument("--json", action="store_true", help='print {"key_id", "secret"}')
    q = keys.add_parser("list", help="every key (never a secret)")
    q.add_argument("--json", action="store_true")
    q = keys.add_parser("revoke", help="revoke a key")
    q.add_argument("key_id")
    p.set_defaults(func=_cmd_keys)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args, Settings.from_env()))
    except Exception as exc:
        from kouiki.identity.errors import IdentityError
        from kouiki.messaging.clients import DeliveryError
        from kouiki.services.processes import ServiceError
        from kouiki.warehouse.dbt import BuildError

        if isinstance(exc, ServiceError | BuildError | ConfigError | IdentityError | DeliveryError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.command in ("users", "keys", "notices") and type(exc).__module__.startswith("sqlalchemy"):
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"error: the identity store cannot be used: {first_line}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
