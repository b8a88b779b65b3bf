"""One submission over HTTP: read the body into documents, check each with the contract code of
``kouiki submit``, authorize it for the principal, send the valid and authorized ones signed with the
gateway's key (registrations acknowledged before any report), and keep what happened.

``submitted_by`` is always the authenticated username: a document naming anyone else is rewritten
before it is checked and signed (its event_id is kept, so a re-sent document is still the same event).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from kouiki.config import Settings
from kouiki.contract.check import check_bytes, kind_of
from kouiki.contract.messages import Violation
from kouiki.contract.model import kind_of_bytes
from kouiki.contract.rules import Registry
from kouiki.contract.signature import signed_headers
from kouiki.contract.strict_json import loads
from kouiki.gateway import tables
from kouiki.gateway.errors import ApiError
from kouiki.identity import audit, store
from kouiki.identity.keys import SigningKey
from kouiki.identity.principal import CABINET, Principal
from kouiki.intake import files as reader
from kouiki.intake.parallel import DocumentVerdict, check_all, verdict_of
from kouiki.intake.uploads import read_upload
from kouiki.messaging.clients import DeliveryError, Producer
from kouiki.messaging.topics import INGEST_TOPICS, REGISTRY_TOPIC, topic_for
from kouiki.messaging.watermarks import topic_epochs

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Content-Type -> the name the body has in located errors (its suffix picks the reader)
BODY_NAMES = {
    "application/json": "body.json",
    "application/x-ndjson": "body.jsonl",
    "application/jsonl": "body.jsonl",
    "text/csv": "body.csv",
    XLSX: "body.xlsx",
}
# charsets a CSV sheet may declare: UTF-8, or Shift_JIS as Excel on Japanese Windows saves it (read as CP932)
CSV_CHARSETS = ("utf-8", "utf8", "shift_jis", "shift-jis", "sjis", "cp932", "windows-31j", "ms932")
UPLOAD_SUFFIXES = (".xlsx", ".csv", ".json", ".jsonl")


def body_name(content_type: str | None) -> str:
    """The body's name for a supported Content-Type, else 415. JSON is UTF-8 only; a CSV sheet may be
    UTF-8 or CP932 (Shift_JIS); a workbook has no charset."""
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    name = BODY_NAMES.get(media)
    charset = next((p.split("=", 1)[1].strip().strip('"').lower() for p in params.split(";") if "=" in p), "utf-8")
    allowed = CSV_CHARSETS if media == "text/csv" else ("utf-8", "utf8")
    if name is None or (media != XLSX and charset not in allowed):
        supported = ", ".join(BODY_NAMES)
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Type {content_type or '(none)'!r} is not accepted; send {supported} "
            "(JSON in UTF-8, CSV in UTF-8 or Shift_JIS)",
            f"この Content-Type は受け付けません。{supported} で送信してください"
            "（JSON は UTF-8、CSV は UTF-8 か Shift_JIS）",
        )
    return name


@dataclass
class Receipt:
    event_id: str
    topic: str
    partition: int
    offset: int


@dataclass
class DocumentResult:
    record: int
    line: int
    errors: list[Violation] = field(default_factory=list)
    kind: str | None = None
    consortium_code: str | None = None
    event_id: str | None = None
    raw: bytes | None = None
    key: bytes | None = None
    receipt: Receipt | None = None
    epoch: str | None = None
    project_code: str | None = None
    period: str | None = None
    summary: str | None = None  # a report's progress summary, shown before it is sent (not kept)
    locate: Callable[[str], str] | None = field(default=None, repr=False)  # JSON path -> where in the file

    def location(self, violation: Violation) -> str:
        """Where ``violation`` is in the uploaded file, e.g. ``報告!F12`` or ``body.csv line 3, column value``."""
        return self.locate(violation.path) if self.locate is not None else violation.path

    @property
    def status(self) -> str:
        return "sent" if self.receipt is not None else "rejected"

    def as_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "line": self.line,
            "kind": self.kind,
            "consortium_code": self.consortium_code,
            "status": self.status,
            "project_code": self.project_code,
            "period": self.period,
            "errors": [
                {"path": v.path, "location": self.location(v), "message": v.message, "message_ja": v.message_ja}
                for v in self.errors
            ],
            "receipt": self.receipt.__dict__ if self.receipt else None,
        }


def read_body(name: str, raw: bytes, principal: Principal, settings: Settings) -> list[reader.Record]:
    """The body's records (the reader chosen by the suffix of ``name``); 400 when not one document
    could be read from it (not a workbook, a zip bomb, malformed JSON)."""
    records = read_upload(name, raw, principal.username, max_unpacked=settings.upload_max_unpacked_bytes)
    if not records:
        records = [reader.Record(Path(name), 1, 1, None, "the body holds no documents", "文書が1件も含まれていません")]
    if all(r.raw is None for r in records) and len(records) == 1:
        error = ApiError(
            400,
            "unreadable_body",
            f"{records[0].where}: {records[0].error}",
            f"{records[0].where}: {records[0].error_ja}",
        )
        error.detail = [
            {"path": "$", "location": records[0].where, "message": records[0].error, "message_ja": records[0].error_ja}
        ]
        raise error
    return records


def stamped(raw: bytes, username: str) -> tuple[bytes, Any]:
    """The document with ``submitted_by`` set to ``username`` (the bytes unchanged when it already
    is, or when they are not a JSON object: the check will say why), and the parsed document."""
    try:
        doc = loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return raw, None
    if not isinstance(doc, dict) or doc.get("submitted_by") == username:
        return raw, doc
    doc["submitted_by"] = username
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), doc


def refusal(principal: Principal, kind: str, code: str) -> Violation | None:
    """Why ``principal`` may not write this document, naming the consortium; None when it may."""
    if principal.may_write(kind, code):
        return None
    if principal.kind == CABINET:
        why, why_ja = "the Cabinet Office reads and submits nothing", "内閣府のアカウントは送信できません"
    elif kind == "consortium" and code in principal.consortia:
        why, why_ja = "a consortium registration needs an operator", "連携体の登録・変更は運用者のみ行えます"
    else:
        why = f"{principal.username} is not a secretariat of {code}"
        why_ja = f"{principal.username} は {code} の事務局ではありません"
    return Violation(
        "$.consortium_code",
        f"not authorized to submit for consortium {code}: {why}",
        f"連携体 {code} のデータを送信する権限がありません（{why_ja}）",
    )


def check(
    records: list[reader.Record], principal: Principal, registry: Registry, settings: Settings
) -> list[DocumentResult]:
    """A result per record, in order; the sendable ones carry ``raw`` and ``key``. Registrations are
    checked first (authorized ones count as registered for the reports of the same body), as in
    ``kouiki submit``."""
    results = [DocumentResult(r.index, r.line, locate=r.where_of) for r in records]
    registrations: list[DocumentResult] = []
    reports: list[DocumentResult] = []
    source = {id(result): record for record, result in zip(records, results, strict=True)}
    for record, result in zip(records, results, strict=True):
        if _prepare(record, result, principal, settings):
            (reports if result.kind == "report" else registrations).append(result)
    for result in registrations:
        checked = check_bytes(result.raw or b"", registry)
        if checked.doc is not None and not checked.violations and not source[id(result)].problems:
            registry.add(checked.doc)
        _apply(result, verdict_of(checked), source[id(result)])
    for result, verdict in zip(reports, check_all([r.raw or b"" for r in reports], registry), strict=True):
        _apply(result, verdict, source[id(result)])
    for result in results:
        if not result.errors and result.consortium_code is None:  # the contract requires it; never unauthorized
            result.errors.append(Violation("$.consortium_code", "no consortium code", "連携体コードがありません"))
        if result.errors:
            result.raw = result.key = None
    return results


def _prepare(record: reader.Record, result: DocumentResult, principal: Principal, settings: Settings) -> bool:
    """Stamp, classify and authorize one record; whether it goes on to be checked."""
    if record.raw is None:
        result.errors.append(Violation("$", record.error or "", record.error_ja or ""))
        return False
    if len(record.raw) > settings.max_message_bytes:
        result.errors.append(
            Violation(
                "$",
                f"document is {len(record.raw):,} bytes; the limit is {settings.max_message_bytes:,} bytes",
                f"文書が大きすぎます（上限 {settings.max_message_bytes:,} バイト）",
            )
        )
        return False
    raw, doc = stamped(record.raw, principal.username)
    result.raw = raw
    result.kind = kind_of(doc) if isinstance(doc, dict) else kind_of_bytes(raw)
    result.consortium_code, result.project_code, result.period = (
        _text(doc, "consortium_code"),
        _text(doc, "project_code"),
        _text(doc, "period"),
    )
    result.summary = _text(doc.get("progress") if isinstance(doc, dict) else None, "summary_ja")
    denied = refusal(principal, result.kind, result.consortium_code) if result.consortium_code else None
    if denied is not None:
        result.errors.append(denied)  # never checked, never registered, never sent
        return False
    return True


def _text(doc: Any, key: str) -> str | None:
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


def _apply(result: DocumentResult, verdict: DocumentVerdict, record: reader.Record) -> None:
    violations = record.violations(verdict.violations)
    result.errors.extend(violations)
    result.event_id = verdict.event_id
    if not violations and verdict.key is not None:
        result.key = verdict.key.encode()


def send(results: Iterable[DocumentResult], producer: Producer, key: SigningKey, timeout: float = 60.0) -> None:
    """Produce the sendable documents signed with ``key``: every registration acknowledged before
    any report is sent. A document the broker does not acknowledge is rejected with the reason."""
    sendable = [r for r in results if r.raw is not None and r.key is not None]
    registrations = [r for r in sendable if topic_for(r.kind or "report") == REGISTRY_TOPIC]
    reports = [r for r in sendable if topic_for(r.kind or "report") != REGISTRY_TOPIC]
    for group in (registrations, reports):
        futures = []
        for result in group:
            value = result.raw or b""
            headers = signed_headers(value, key.key_id, key.secret)
            topic = topic_for(result.kind or "report")
            futures.append((result, producer.send(topic, key=result.key, value=value, headers=headers)))
        try:
            producer.flush(timeout=timeout)
        except DeliveryError:
            pass  # each message not acknowledged says so below
        for result, future in futures:
            try:
                meta = future.get()
            except DeliveryError as exc:
                result.errors.append(
                    Violation(
                        "$",
                        f"not sent: the broker did not acknowledge it ({type(exc).__name__}); submit it again",
                        "送信できませんでした（ブローカーが応答しません）。再送してください",
                    )
                )
                continue
            result.receipt = Receipt(result.event_id or "", meta.topic, meta.partition, meta.offset)


def epochs(admin_factory: Any) -> dict[str, str]:
    """The topics' current epochs, recorded with each receipt; empty when the broker does not say."""
    try:
        admin: KafkaAdminClient = admin_factory()
    except KafkaError:
        return {}
    try:
        return topic_epochs(admin, INGEST_TOPICS)
    except KafkaError:
        return {}
    finally:
        admin.close()


def save(
    settings: Settings,
    principal: Principal,
    results: list[DocumentResult],
    *,
    source: str,
    content_type: str,
    body_bytes: int,
    epoch_of: dict[str, str],
    submitted_at: datetime | None = None,
) -> str:
    """Keep the submission and its documents, and audit it, in one transaction; its id."""
    submission_id = str(uuid.uuid4())
    consortia = sorted({r.consortium_code for r in results if r.consortium_code})
    sent = sum(1 for r in results if r.receipt is not None)
    with tables.engine(settings).begin() as conn:
        conn.execute(
            tables.submissions.insert().values(
                submission_id=submission_id,
                username=principal.username,
                submitted_at=submitted_at or store.now(),
                source=source,
                content_type=content_type[:100],
                body_bytes=body_bytes,
                documents=len(results),
                sent=sent,
                consortia=consortia,
            )
        )
        conn.execute(
            tables.documents.insert(),
            [
                {
                    "submission_id": submission_id,
                    "record": r.record,
                    "line": r.line,
                    "kind": r.kind,
                    "consortium_code": r.consortium_code,
                    "project_code": r.project_code[:64] if r.project_code else None,
                    "period": r.period[:16] if r.period else None,
                    "event_id": r.event_id,
                    "status": r.status,
                    "errors": [[v.path, v.message, v.message_ja, r.location(v)] for v in r.errors],
                    "topic": r.receipt.topic if r.receipt else None,
                    "epoch": epoch_of.get(r.receipt.topic) if r.receipt else None,
                    "partition": r.receipt.partition if r.receipt else None,
                    "offset": r.receipt.offset if r.receipt else None,
                }
                for r in results
            ],
        )
        audit.record(
            conn,
            principal.username,
            "submission",
            submission_id,
            source,
            content_type=content_type[:100],
            bytes=body_bytes,
            documents=len(results),
            sent=sent,
            rejected=len(results) - sent,
            consortia=consortia,
        )
    return submission_id


def refused(settings: Settings, principal: Principal, source: str, error: ApiError) -> None:
    """Audit a submission refused as a whole (415, 413, 400)."""
    with store.engine(settings).begin() as conn:
        audit.record(conn, principal.username, "submission.refused", error.code, source, status=error.status)
