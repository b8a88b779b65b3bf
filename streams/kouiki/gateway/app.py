"""The ASGI app: ``create_app()`` (uvicorn ``--factory``) with the routes of the REST API.

POST /api/v1/submissions            JSON, JSON array, JSONL, CSV or .xlsx; per document sent | rejected
GET  /api/v1/submissions            the caller's submissions (operators, Cabinet Office: all)
GET  /api/v1/submissions/{id}       per document: sent, landed, published, dead_lettered, rejected
GET  /api/v1/audit                  the audit log (operators)
GET  /api/v1/me                     who the token belongs to
GET  /healthz                       no authentication; for ``kouiki portal status``

and the secretariat portal's pages (``portal.pages``): /, /login, /templates, /submit, /history, /notices.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kouiki.config import Settings
from kouiki.contract.rules import Registry
from kouiki.gateway import auth, delivery, status, submissions, tables
from kouiki.gateway.errors import ApiError
from kouiki.gateway.portal import pages
from kouiki.gateway.security import FailureLimiter, SecurityHeaders, headers_for, is_page, read_limited
from kouiki.identity import audit
from kouiki.identity.principal import CABINET, OPERATOR, Principal
from kouiki.intake.submit import known_registry

log = logging.getLogger(__name__)
API = "/api/v1"
Authenticated = Annotated[Principal, Depends(auth.principal)]
Operator = Annotated[Principal, Depends(auth.operator)]

SUBMISSION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "one JSON document or a JSON array of them (UTF-8), JSON Lines (UTF-8), a CSV sheet "
        "(UTF-8, or Shift_JIS/CP932 as Excel saves it: `text/csv; charset=shift_jis`; a plain `text/csv` body "
        "that is not UTF-8 is read as CP932), or an Excel workbook (`.xlsx`, the report template of "
        "`/templates`). Each error in the answer names its `location` in the body: the cell in a workbook "
        "(`body.xlsx: 報告!G5`), the line and column in a sheet, the record and line in JSON.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            submissions.XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _error(request: Request, error: ApiError) -> Response:
    """The API's JSON error, or on a portal page the same error as a page (Japanese and English)."""
    if is_page(request.url.path):
        return pages.error_page(request, error)
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def create_app(settings: Settings | None = None, registry: Callable[[Settings], Registry] = known_registry) -> FastAPI:
    """The gateway; ``registry`` gives the registrations documents are checked against (those in the
    lake and on the registry topic, as ``kouiki submit`` does)."""
    settings = settings or Settings.from_env()
    kafka = delivery.Kafka(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tables.engine(settings)
        yield
        await run_in_threadpool(kafka.close)

    app = FastAPI(
        title="Kouiki gateway",
        version="1",
        description="Authenticated submissions of consortium registrations and quarterly reports. "
        "`Authorization: Bearer <token>` (from `kouiki users add`).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.failures = FailureLimiter()
    app.state.kafka = kafka
    app.state.registry = registry
    app.add_middleware(SecurityHeaders)

    _error_handlers(app)
    _routes(app, settings, kafka)
    pages.install(app)
    return app


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        ja = {404: "見つかりません", 405: "このメソッドは使えません"}.get(exc.status_code, "リクエストを処理できません")
        if is_page(request.url.path) and exc.status_code in (404, 405):
            return _error(request, pages.page_error(exc.status_code, f"error.{exc.status_code}", "http_error"))
        return _error(request, ApiError(exc.status_code, "http_error", str(exc.detail), ja))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        error = ApiError(422, "invalid_request", "invalid request parameters", "リクエストのパラメータが不正です")
        error.detail = [
            {"path": ".".join(map(str, e.get("loc", ()))), "message": str(e.get("msg")), "message_ja": ""}
            for e in exc.errors()
        ]
        return _error(request, error)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        error = ApiError(500, "internal_error", "internal error", "内部エラーが発生しました")
        if is_page(request.url.path):
            error = pages.page_error(500, "error.500", "internal_error")
        response = _error(request, error)
        response.headers.update(headers_for(request.url.path))  # outside the middleware for a 500
        return response


def _routes(app: FastAPI, settings: Settings, kafka: delivery.Kafka) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(f"{API}/me")
    def me(who: Authenticated) -> dict[str, Any]:
        """The principal the token belongs to."""
        return {"username": who.username, "kind": who.kind, "consortia": list(who.consortia)}

    @app.post(f"{API}/submissions", openapi_extra=SUBMISSION_BODY)
    async def submit(request: Request, who: Authenticated) -> dict[str, Any]:
        """Check every document, send the valid ones this caller may write, signed by the gateway."""
        source = auth.client_address(request)
        content_type = request.headers.get("content-type", "")
        try:
            name = submissions.body_name(content_type)
            raw = await read_limited(
                request.headers.get("content-length"), request.stream(), settings.portal_max_body_bytes
            )
            records = await run_in_threadpool(submissions.read_body, name, raw, who, settings)
        except ApiError as error:
            await run_in_threadpool(submissions.refused, settings, who, source, error)
            raise
        return await run_in_threadpool(
            _submit, settings, request.app.state, who, records, source, content_type, len(raw)
        )

    @app.get(f"{API}/submissions")
    def list_submissions(who: Authenticated, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        """The caller's submissions, newest first (operators and Cabinet Office: everyone's)."""
        s = tables.submissions
        query = sa.select(s).order_by(s.c.submitted_at.desc()).limit(limit)
        if who.kind not in (OPERATOR, CABINET):
            query = query.where(s.c.username == who.username)
        with tables.engine(settings).connect() as conn:
            rows = conn.execute(query).all()
        return {"submissions": [_summary(r) for r in rows]}

    @app.get(f"{API}/submissions/{{submission_id}}")
    def get_submission(submission_id: str, who: Authenticated) -> dict[str, Any]:
        """One submission and, per document, what has become of it."""
        s, d = tables.submissions, tables.documents
        with tables.engine(settings).connect() as conn:
            row = conn.execute(sa.select(s).where(s.c.submission_id == submission_id)).first()
            if row is None or not _visible(who, row):
                raise ApiError(404, "not_found", f"no submission {submission_id}", "その送信は見つかりません")
            docs = conn.execute(sa.select(d).where(d.c.submission_id == submission_id).order_by(d.c.id)).all()
        tracked = status.track(settings, [dict(r._mapping) for r in docs], kafka.epochs)
        return _summary(row) | {"documents": tracked}

    @app.get(f"{API}/audit")
    def audit_log(
        who: Operator,
        since: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> dict[str, Any]:
        """The audit log, oldest first (the last ``limit`` entries): operators only."""
        entries = audit.entries(settings, since=since, limit=limit)
        return {
            "entries": [
                {
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "subject": e.subject,
                    "detail": e.detail,
                    "source": e.source,
                }
                for e in entries
            ]
        }


def _visible(who: Principal, row: Any) -> bool:
    return who.kind in (OPERATOR, CABINET) or row.username == who.username


def _summary(row: Any) -> dict[str, Any]:
    return {
        "submission_id": row.submission_id,
        "submitted_by": row.username,
        "submitted_at": row.submitted_at.isoformat(),
        "content_type": row.content_type,
        "documents": row.documents,
        "sent": row.sent,
        "rejected": row.documents - row.sent,
    }


def _submit(
    settings: Settings,
    state: Any,
    who: Principal,
    records: list[Any],
    source: str,
    content_type: str,
    body_bytes: int,
) -> dict[str, Any]:
    delivered = delivery.deliver(
        settings,
        state.kafka,
        state.registry,
        who,
        records,
        source=source,
        content_type=content_type,
        body_bytes=body_bytes,
    )
    return {"submission_id": delivered.submission_id, "documents": [r.as_json() for r in delivered.results]}
