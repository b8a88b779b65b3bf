"""``kouiki submit``: validate report files and produce the valid documents to Kafka.

Every problem in every file is reported at once, each located by file, record, line and JSON path,
in English and Japanese. An invalid document is never sent; with ``all_or_nothing`` nothing at all
is sent if any document is invalid. Registrations are checked first and count as registered for the
reports in the same submission; reports are also checked against the registrations already on the
registry topic and in the local lake. Each sent document gets a receipt (event_id, topic, partition,
offset) once the broker has acknowledged it with acks=all.

Every sent document is signed (``contract.signature``) with the submitter's key
(``--key-id/--secret`` or ``KOUIKI_KEY_ID``/``KOUIKI_KEY_SECRET``), and a document the key may not
write (by the scope its id names, ``identity.keys.scope_of``) is refused before anything is sent,
as the lander would refuse it. Without a key nothing is sent; a dry run checks without one.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kouiki.config import ConfigError, Settings
from kouiki.contract.check import Signer, check_bytes
from kouiki.contract.messages import Violation
from kouiki.contract.model import kind_of_bytes
from kouiki.contract.rules import Registry
from kouiki.contract.signature import signed_headers
from kouiki.identity.keys import OPERATOR_SCOPE, SigningKey, scope_of
from kouiki.intake import files as reader
from kouiki.intake.parallel import DocumentVerdict, check_all, iter_checked, verdict_of
from kouiki.intake.uploads import read_upload
from kouiki.lake.registry import from_lake
from kouiki.messaging import clients
from kouiki.messaging.registry_topic import from_topic
from kouiki.messaging.topics import REGISTRY_TOPIC, topic_for

Progress = Callable[[int, int], None]
PARALLEL_FROM = 2000  # documents; below this a process pool costs more than it saves
STREAMING_CHUNK = 1000  # documents checked before the first is sent


NO_KEY = (
    "no signing key: pass --key-id and --secret or set KOUIKI_KEY_ID and KOUIKI_KEY_SECRET "
    "(an operator creates a key with `kouiki keys add --consortium CODE`); --dry-run checks without one"
)


@dataclass(frozen=True)
class Credentials:
    """The key a submission is signed with."""

    key_id: str
    secret: str = field(repr=False)

    @classmethod
    def of(cls, settings: Settings, key_id: str | None = None, secret: str | None = None) -> Credentials | None:
        """The key given (else the settings'); None when there is none; ConfigError when half of one."""
        key_id = key_id or settings.key_id
        secret = secret or settings.key_secret
        if not key_id and not secret:
            return None
        if not key_id or not secret:
            raise ConfigError(f"a signing key needs both its id and its secret; {NO_KEY}")
        if not key_id.isascii() or "." not in key_id:
            raise ConfigError(f"{key_id!r} is not a signing key id (<CONSORTIUM_CODE>.<hex> or operator.<hex>)")
        return cls(key_id, secret)

    @property
    def signer(self) -> SigningKey:
        """What the key may write, as its id's scope says (the lander checks the key ring)."""
        scope = scope_of(self.key_id)
        operator = scope == OPERATOR_SCOPE
        return SigningKey(self.key_id, self.secret, operator, None if operator else scope, datetime.now(UTC))

    def headers(self, value: bytes) -> list[tuple[str, bytes]]:
        return signed_headers(value, self.key_id, self.secret)


@dataclass(frozen=True)
class Problem:
    where: str
    violation: Violation

    def __str__(self) -> str:
        return f"{self.where}: {self.violation}"


@dataclass(frozen=True)
class Receipt:
    event_id: str
    topic: str
    partition: int
    offset: int
    file: str
    record: int


@dataclass(frozen=True)
class Prepared:
    record: reader.Record
    event_id: str
    topic: str
    key: bytes


@dataclass
class Outcome:
    """What a submission came to: ``checked`` documents read (known before any is sent, so progress
    has its total), every problem, the documents that passed and, once sent, their receipts."""

    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    prepared: list[Prepared] = field(default_factory=list)


def default_submitter() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def read_all(
    paths: Iterable[Path], submitted_by: str, *, max_unpacked: int = Settings.upload_max_unpacked_bytes
) -> tuple[list[reader.Record], list[Problem]]:
    """Every record of every file (folders expanded), each read as ``uploads.read_upload`` reads it."""
    records: list[reader.Record] = []
    problems: list[Problem] = []
    for path in reader.expand(paths):
        if not path.is_file():
            problems.append(Problem(str(path), Violation("$", "no such file", "ファイルがありません")))
        else:
            records.extend(read_upload(str(path), path.read_bytes(), submitted_by, max_unpacked=max_unpacked))
    return records, problems


def known_registry(settings: Settings) -> Registry:
    """Registrations in the local lake and on the registry topic (when the broker answers)."""
    registry = from_lake(settings)
    if not clients.broker_answers(settings):
        return registry  # the lake's registrations still count; unknown codes are reported as such
    from_topic(settings, registry, timeout=15)
    return registry


def check(
    paths: Iterable[Path],
    settings: Settings,
    registry: Registry | None = None,
    submitted_by: str | None = None,
    signer: Signer | None = None,
) -> Outcome:
    """Read and validate every document (and, with ``signer``, whether it may write each one);
    collect what may be sent and every problem found."""
    outcome = Outcome()
    records = _read(paths, submitted_by, outcome, settings)
    outcome.prepared.extend(_checked(records, settings, outcome, registry, signer=signer))
    outcome.problems.sort(key=lambda p: p.where)
    return outcome


def _read(paths: Iterable[Path], submitted_by: str | None, outcome: Outcome, settings: Settings) -> list[reader.Record]:
    """Every record of the submission; files that could not be read go into ``outcome.problems``,
    and ``outcome.checked`` counts the documents, before any is checked or sent."""
    records, problems = read_all(
        paths, submitted_by or default_submitter(), max_unpacked=settings.upload_max_unpacked_bytes
    )
    outcome.problems.extend(problems)
    outcome.checked = len(records)
    return records


def _checked(
    records: list[reader.Record],
    settings: Settings,
    outcome: Outcome,
    registry: Registry | None = None,
    workers: int | None = None,
    chunk: int = 5000,
    signer: Signer | None = None,
) -> Generator[Prepared, None, None]:
    """The valid documents, registrations first, then the reports in file order as the checking pool
    (``workers`` processes, one per core by default) finishes each chunk of them; every problem goes
    into ``outcome``."""
    if registry is None:
        registry = known_registry(settings)
    readable = [r for r in records if _readable(r, settings, outcome)]
    registrations = {id(r) for r in readable if kind_of_bytes(r.raw or b"") != "report"}
    # registrations first and in order, so reports in the same submission may refer to them
    for record in (r for r in readable if id(r) in registrations):
        checked = check_bytes(record.raw or b"", registry, signer)
        if checked.doc is not None and not checked.violations and not record.problems:
            registry.add(checked.doc)
        yield from _prepared(record, verdict_of(checked), outcome)
    reports = [r for r in readable if id(r) not in registrations]
    raws = [r.raw or b"" for r in reports]
    chunks = (
        iter_checked(raws, registry, chunk, workers, signer)
        if len(raws) >= PARALLEL_FROM
        else iter([check_all(raws, registry, signer)])
    )
    done = 0
    for verdicts in chunks:
        for record, verdict in zip(reports[done : done + len(verdicts)], verdicts, strict=True):
            yield from _prepared(record, verdict, outcome)
        done += len(verdicts)


def _readable(record: reader.Record, settings: Settings, outcome: Outcome) -> bool:
    if record.raw is None:
        outcome.problems.append(Problem(record.where, Violation("$", record.error or "", record.error_ja or "")))
        return False
    if len(record.raw) > settings.max_message_bytes:
        outcome.problems.append(
            Problem(
                record.where,
                Violation(
                    "$",
                    f"document is {len(record.raw):,} bytes; the limit is {settings.max_message_bytes:,} bytes",
                    f"文書が大きすぎます（上限 {settings.max_message_bytes:,} バイト）",
                ),
            )
        )
        return False
    return True


def _prepared(record: reader.Record, verdict: DocumentVerdict, outcome: Outcome) -> Iterator[Prepared]:
    violations = record.violations(verdict.violations)
    if violations or verdict.key is None or verdict.event_id is None:
        outcome.problems.extend(Problem(record.where_of(v.path), v) for v in violations)
        return
    yield Prepared(record, verdict.event_id, topic_for(verdict.kind), verdict.key.encode())


def send(
    documents: Iterable[Prepared],
    outcome: Outcome,
    settings: Settings,
    credentials: Credentials,
    progress: Progress | None = None,
    timeout: float = 60.0,
    producer: clients.Producer | None = None,
) -> list[Prepared]:
    """Produce the documents unchanged and signed, in the order given, and wait for every acknowledgement;
    returns the documents sent. Unless a ``producer`` is given, the broker is contacted only once
    there is something to send, so a submission with nothing valid reports its problems even when
    the broker is down."""
    total = outcome.checked
    step = max(1000, total // 10)
    sent: list[tuple[Prepared, clients.Sent]] = []
    unacknowledged_registrations = False
    try:
        for prepared in documents:
            producer = producer or clients.producer(settings)
            # A registration is acknowledged before any report is sent, so a report can never be in
            # the log ahead of the registration it refers to (the lander relies on this).
            if prepared.topic == REGISTRY_TOPIC:
                unacknowledged_registrations = True
            elif unacknowledged_registrations:
                producer.flush(timeout=timeout)
                for _, future in sent:
                    future.get()
                unacknowledged_registrations = False
            raw = prepared.record.raw or b""
            future = producer.send(prepared.topic, key=prepared.key, value=raw, headers=credentials.headers(raw))
            sent.append((prepared, future))
            if progress and len(sent) % step == 0:
                progress(len(sent), total)
        if producer is None:
            return []
        producer.flush(timeout=timeout)
        if progress and len(sent) % step:
            progress(len(sent), total)
        for prepared, future in sent:
            meta = future.get()
            outcome.receipts.append(
                Receipt(
                    prepared.event_id,
                    meta.topic,
                    meta.partition,
                    meta.offset,
                    str(prepared.record.file),
                    prepared.record.index,
                )
            )
        return [prepared for prepared, _ in sent]
    finally:
        if producer is not None:
            producer.close(timeout=timeout)


def print_progress(done: int, total: int) -> None:
    print(f"sent {done:,} of {total:,} documents ({done * 100 // max(total, 1)}%)", file=sys.stderr, flush=True)


def submit(
    paths: Iterable[Path],
    settings: Settings,
    *,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    submitted_by: str | None = None,
    progress: Progress | None = None,
    key_id: str | None = None,
    secret: str | None = None,
) -> Outcome:
    """Check and send, signed with ``key_id``/``secret`` (else the settings' key). Unless the whole
    submission must be judged before anything is sent (a dry run, or all or nothing), the valid
    documents are sent while the rest are still being checked."""
    credentials = Credentials.of(settings, key_id, secret)
    if credentials is None and not dry_run:
        raise ConfigError(NO_KEY)
    signer = credentials.signer if credentials is not None else None
    if dry_run or all_or_nothing:
        outcome = check(paths, settings, submitted_by=submitted_by, signer=signer)
        if credentials is not None and not dry_run and not outcome.problems:
            send(outcome.prepared, outcome, settings, credentials, progress)
        return outcome
    if credentials is None:  # refused above; this tells the type checker
        raise ConfigError(NO_KEY)
    # Started now, the producer acquires its producer id (idempotence: half a second or more of
    # handshakes in librdkafka's own threads) while the files are read and checked.
    producer = clients.producer(settings) if clients.broker_answers(settings) else None
    outcome = Outcome()
    # Checking is the CPU work: librdkafka sends from threads of its own, without the GIL, so every
    # core checks while this process reads, signs and hands documents over.
    checkers = os.cpu_count() or 2
    records = _read(paths, submitted_by, outcome, settings)
    documents = _checked(records, settings, outcome, workers=checkers, chunk=STREAMING_CHUNK, signer=signer)
    with closing(documents):
        outcome.prepared = send(documents, outcome, settings, credentials, progress, producer=producer)
    outcome.problems.sort(key=lambda p: p.where)
    return outcome
