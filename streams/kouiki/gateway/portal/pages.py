"""The portal's pages: server-rendered HTML forms on the gateway's app (no script).

GET  /                          home (or to /login)
GET  /login, POST /login        username and password; a new session id on success
POST /logout                    ends the session
GET  /templates                 choose consortium and period
GET  /templates/report.xlsx     the pre-filled quarterly report workbook (own consortia only)
GET  /templates/registration.xlsx   the blank project registration workbook
GET  /submit, POST /submit      upload a file: every problem shown at once, nothing sent yet
POST /submit/confirm            send the valid documents of a checked upload
GET  /history, /history/{id}    submissions of one's consortia and what became of each document
GET  /notices                   due and overdue reports, dead letters
GET  /static/portal.css         the one style sheet

Every POST form carries the CSRF token (see ``csrf``); every page is refused or answered in
Japanese and English (see ``i18n``).
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import PurePath
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message

from kouiki.config import Settings
from kouiki.contract import periods
from kouiki.gateway import auth, delivery, submissions
from kouiki.gateway.errors import ApiError
from kouiki.gateway.portal import csrf, history, i18n, pending, sessions
from kouiki.gateway.security import FailureLimiter, read_limited
from kouiki.identity import audit, store, users
from kouiki.identity.principal import CABINET, OPERATOR, SECRETARIAT, Principal
from kouiki.intake.template import registration_workbook, report_workbook
from kouiki.intake.uploads import read_upload
from kouiki.notices.listing import all_notices, notices_for

log = logging.getLogger(__name__)
JST = timezone(timedelta(hours=9))
XLSX = submissions.XLSX
FORM_LIMIT = 16 * 1024  # an ordinary (not file) form
NOTICE_CACHE_SECONDS = 60.0

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("kouiki.gateway.portal", "templates"),
    autoescape=True,  # every template, whatever its name: user text is always escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
CSS = resources.files("kouiki.gateway.portal").joinpath("static/portal.css").read_bytes()

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """No live session: the browser is sent to the login page."""


def page_error(status: int, key: str, code: str = "page_error", **values: Any) -> ApiError:
    ja, en = i18n.both(key, **values)
    return ApiError(status, code, en, ja)


def today() -> date:
    return datetime.now(JST).date()


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _language(request: Request) -> str:
    return i18n.chosen(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


# ---------------------------------------------------------------- rendering


class Notices:
    """The notices of each set of consortia today, kept a minute (the badge is on every page)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._kept: dict[tuple[tuple[str, ...], date], tuple[float, list[Any]]] = {}

    def of(self, who: Principal) -> list[Any]:
        # operators see every notice, including refusals that name no consortium (or an unproven
        # sender); the Cabinet Office every consortium's; a secretariat its own consortia's
        scope = (who.kind,) if who.kind in (OPERATOR, CABINET) else who.consortia
        key = (scope, today())
        now = time.monotonic()
        kept = self._kept.get(key)
        if kept is not None and now - kept[0] < NOTICE_CACHE_SECONDS:
            return kept[1]
        if who.kind == OPERATOR:
            found = all_notices(self.settings, key[1])
        elif who.kind == CABINET:
            found = [n for n in all_notices(self.settings, key[1]) if n.consortium_code is not None]
        else:
            found = notices_for(self.settings, who.consortia, key[1])
        if len(self._kept) > 10_000:
            self._kept.clear()
        self._kept[key] = (now, found)
        return found


def megabytes(size: int) -> str:
    """A size limit as people read it (``64 MB``); exact bytes below 1 MB."""
    return f"{size / 1024 / 1024:,.3g} MB" if size >= 1024 * 1024 else f"{size:,} B"


def notices_of(request: Request, who: Principal) -> list[Any]:
    notices: Notices = request.app.state.notices
    return notices.of(who)


def _switch_links(request: Request) -> dict[str, str]:
    links = {}
    for lang in i18n.LANGUAGES:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
        links[lang] = f"{request.url.path}?{urlencode(query)}"
    return links


def render(
    request: Request,
    template: str,
    session: sessions.Session | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """One page in the chosen language; ``?lang=`` is remembered in a cookie."""
    lang = _language(request)
    settings = _settings(request)
    principal = session.principal if session else None
    values: dict[str, Any] = {
        "t": i18n.translator(lang),
        "lang": lang,
        "session": session,
        "principal": principal,
        "csrf_field": csrf.FIELD,
        "csrf": session.csrf if session else "",
        "may_submit": principal is not None and principal.kind == SECRETARIAT,
        "notice_count": len(notices_of(request, principal)) if principal else 0,
        "switch": _switch_links(request),
        "path": request.url.path,
        "kinds": i18n.CATALOG,
        "advice": lambda error_class: i18n.advice(lang, error_class),
        "kind_label": lambda kind: i18n.document_kind(lang, kind),
    }
    values.update(context)
    response = HTMLResponse(ENV.get_template(template).render(values), status_code=status_code, headers=headers)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            path="/",
            httponly=True,
            samesite="lax",
            secure=settings.portal_secure_cookies,
        )
    return response


def error_page(request: Request, error: ApiError) -> HTMLResponse:
    """An error as a page: Japanese first, English beside it; never a traceback. With the menu when
    the browser is logged in (not for a 500: whatever failed may fail again)."""
    try:
        found = _session(request) if error.status != 500 else None
        return render(
            request,
            "error.html",
            found,
            status_code=error.status,
            headers=error.headers,
            status=error.status,
            message_ja=error.message_ja,
            message_en=error.message,
        )
    except Exception:  # the error page itself must not fail: a plain bilingual page
        log.exception("rendering the error page failed")
        ja, en = i18n.both("error.500")
        body = f'<!DOCTYPE html><html lang="ja"><title>Error</title><p>{ja}</p><p lang="en">{en}</p></html>'
        return HTMLResponse(body, status_code=error.status)


def install(app: FastAPI) -> None:
    """The portal's routes and the handlers that answer its refusals with pages."""
    app.state.login_failures = FailureLimiter()
    app.state.notices = Notices(app.state.settings)
    app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)


# ---------------------------------------------------------------- sessions and forms


def _session(request: Request) -> sessions.Session | None:
    return sessions.current(_settings(request), request.cookies.get(sessions.COOKIE))


def _require(request: Request) -> sessions.Session:
    found = _session(request)
    if found is None:
        raise LoginRequired
    return found


async def require(request: Request) -> sessions.Session:
    found: sessions.Session = await run_in_threadpool(_require, request)
    return found


def _set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.portal_secure_cookies,
    )


def _clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", secure=settings.portal_secure_cookies, httponly=True, samesite="lax")


async def small_form(request: Request) -> dict[str, str]:
    """An urlencoded form of a few fields (at most ``FORM_LIMIT`` bytes)."""
    raw = await read_limited(request.headers.get("content-length"), request.stream(), FORM_LIMIT)
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise page_error(400, "error.400") from None
    return {k: v[0] for k, v in parsed.items()}


def _verify(request: Request, submitted: str | None, expected: str | None, actor: str) -> None:
    """The CSRF check of one POST: refused with 403 and audited."""
    try:
        csrf.check(request, submitted, expected)
    except csrf.CsrfRefused as exc:
        csrf.refused(_settings(request), actor, request.url.path, auth.client_address(request), exc.reason)
        raise page_error(403, "error.403.csrf", "csrf_refused") from None


async def verify(request: Request, submitted: str | None, expected: str | None, actor: str) -> None:
    await run_in_threadpool(_verify, request, submitted, expected, actor)


# ---------------------------------------------------------------- login, logout, home


@router.get("/")
def home(request: Request) -> Response:
    found = _session(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    notices = notices_of(request, found.principal)
    return render(request, "home.html", found, notices=notices[:5], sees_all=history.sees_all(found.principal))


@router.get("/login")
def login_page(request: Request) -> Response:
    """The form, also when logged in (logging in again, or as someone else, starts a new session)."""
    return _login_form(request)


def _login_form(request: Request, failed: bool = False, username: str = "", status_code: int = 200) -> Response:
    token = csrf.login_token(request.cookies.get(csrf.LOGIN_COOKIE))  # one per browser: several tabs work
    response = render(
        request, "login.html", status_code=status_code, login_csrf=token, failed=failed, username=username
    )
    _set_cookie(response, _settings(request), csrf.LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    settings = _settings(request)
    form = await small_form(request)
    username, password = form.get("username", "")[:64], form.get("password", "")[:1024]
    await verify(request, form.get(csrf.FIELD), request.cookies.get(csrf.LOGIN_COOKIE), username or "unknown")
    source = auth.client_address(request)
    limiter: FailureLimiter = request.app.state.login_failures
    wait = limiter.retry_after(source)
    if wait is not None:
        await run_in_threadpool(_audit, settings, username or "unknown", "login.password.refused", source, "throttled")
        error = page_error(429, "error.429", "too_many_failures", wait=wait)
        error.headers["Retry-After"] = str(wait)
        raise error
    principal = await run_in_threadpool(users.authenticate_password, settings, username, password, source=source)
    if principal is None:
        if limiter.fail(source):
            await run_in_threadpool(_audit, settings, username or "unknown", "login.password.refused", source, "limit")
        return _login_form(request, failed=True, username=username, status_code=401)
    previous = request.cookies.get(sessions.COOKIE)
    session_id = await run_in_threadpool(sessions.start, settings, principal.username, source, previous)
    response = RedirectResponse("/", status_code=303)
    _set_cookie(response, settings, sessions.COOKIE, session_id)
    _clear_cookie(response, settings, csrf.LOGIN_COOKIE)
    return response


def _audit(settings: Settings, actor: str, action: str, source: str, reason: str) -> None:
    with store.engine(settings).begin() as conn:
        audit.record(conn, actor[:200], action, actor[:200], source, reason=reason)


@router.post("/logout")
async def logout(request: Request) -> Response:
    found = await require(request)
    form = await small_form(request)
    await verify(request, form.get(csrf.FIELD), found.csrf, found.principal.username)
    settings = _settings(request)
    await run_in_threadpool(sessions.end, settings, found.session_id)
    await run_in_threadpool(_audit, settings, found.principal.username, "logout", auth.client_address(request), "ok")
    response = RedirectResponse("/login", status_code=303)
    _clear_cookie(response, settings, sessions.COOKIE)
    return response


# ---------------------------------------------------------------- templates


def _quarters() -> list[tuple[str, date]]:
    return [(p, periods.due_date(p)) for p in periods.recent_quarters(today())]


@router.get("/templates")
def templates_page(request: Request) -> Response:
    found = _require(request)
    return render(request, "templates.html", found, consortia=found.principal.consortia, quarters=_quarters())


def _own_consortium(request: Request, who: Principal, code: str) -> str:
    """``code`` when ``who`` is a secretariat of it; 403 (audited) otherwise."""
    if who.kind == SECRETARIAT and code in who.consortia:
        return code
    _audit(_settings(request), who.username, "portal.template.refused", auth.client_address(request), code[:64])
    raise page_error(403, "error.403.consortium", "forbidden")


def download(body: bytes, name: str, ascii_name: str) -> Response:
    """An attachment named ``name`` (RFC 5987 ``filename*``, UTF-8) with an ASCII fallback."""
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.get("/templates/report.xlsx")
def report_template(request: Request, consortium: str = "", period: str = "") -> Response:
    found = _require(request)
    code = _own_consortium(request, found.principal, consortium)
    try:
        periods.parse_quarter(period)
    except ValueError:
        raise page_error(400, "error.400") from None
    body = report_workbook(_settings(request), code, period, today=today())
    return download(body, f"四半期報告_{code}_{period}.xlsx", f"report_{code}_{period}.xlsx")


@router.get("/templates/registration.xlsx")
def registration_template(request: Request, consortium: str = "") -> Response:
    found = _require(request)
    code = _own_consortium(request, found.principal, consortium)
    return download(registration_workbook(code), f"事業登録_{code}.xlsx", f"registration_{code}.xlsx")


# ---------------------------------------------------------------- submit: check, then confirm


def _submitter(found: sessions.Session) -> Principal:
    if found.principal.kind != SECRETARIAT:
        raise page_error(403, "error.403.submit", "forbidden")
    return found.principal


@router.get("/submit")
def submit_page(request: Request) -> Response:
    found = _require(request)
    _submitter(found)
    return render(request, "submit.html", found, limit=megabytes(_settings(request).portal_max_body_bytes))


async def _upload_form(request: Request, settings: Settings) -> tuple[dict[str, str], str, bytes]:
    """The multipart form's fields, and the uploaded file's name and bytes (413 over the limit)."""
    limit = settings.portal_max_body_bytes
    try:
        raw = await read_limited(request.headers.get("content-length"), request.stream(), limit)
    except ApiError as error:
        if error.status == 413:
            raise page_error(413, "error.413", error.code, limit=megabytes(limit)) from None
        raise
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        async with Request(request.scope, replay).form(max_files=1, max_fields=10, max_part_size=FORM_LIMIT) as form:
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                return fields, "", b""
            return fields, PurePath(upload.filename.replace("\\", "/")).name, await upload.read()
    except (ValueError, KeyError, AssertionError):
        raise page_error(400, "error.400") from None


@router.post("/submit")
async def submit_check(request: Request) -> Response:
    """Read and check an upload; keep it for confirmation when something in it can be sent."""
    found = await require(request)
    settings = _settings(request)
    who = _submitter(found)
    fields, filename, raw = await _upload_form(request, settings)
    await verify(request, fields.get(csrf.FIELD), found.csrf, who.username)
    if not filename:
        raise page_error(400, "error.400")
    if PurePath(filename).suffix.lower() not in submissions.UPLOAD_SUFFIXES:
        raise page_error(415, "error.415", "unsupported_media_type")
    return await run_in_threadpool(_checked_page, request, found, settings, filename, raw)


def _checked_page(request: Request, found: sessions.Session, settings: Settings, filename: str, raw: bytes) -> Response:
    who = found.principal
    records = read_upload(filename, raw, who.username, max_unpacked=settings.upload_max_unpacked_bytes)
    if len(records) == 1 and records[0].raw is None:  # the file as a whole: not a workbook, a zip bomb, ...
        record = records[0]
        return render(
            request,
            "checked.html",
            found,
            status_code=400,
            filename=filename,
            unreadable=(record.error_ja or "", record.error or ""),
            results=[],
            ok=0,
            bad=1,
            upload_id=None,
        )
    results = submissions.check(records, who, request.app.state.registry(settings), settings)
    ok = sum(1 for r in results if not r.errors)
    upload_id = pending.keep(settings, who.username, filename, raw) if ok else None
    return render(
        request,
        "checked.html",
        found,
        filename=filename,
        unreadable=None,
        results=results,
        ok=ok,
        bad=len(results) - ok,
        upload_id=upload_id,
    )


@router.post("/submit/confirm")
async def submit_confirm(request: Request) -> Response:
    found = await require(request)
    who = _submitter(found)
    form = await small_form(request)
    await verify(request, form.get(csrf.FIELD), found.csrf, who.username)
    settings = _settings(request)
    kept = await run_in_threadpool(pending.take, settings, who.username, form.get("upload_id", ""))
    if kept is None:
        raise page_error(404, "error.404.upload", "not_found")
    submission_id = await run_in_threadpool(_send, request, settings, who, kept)
    return RedirectResponse(f"/history/{submission_id}", status_code=303)


def _send(request: Request, settings: Settings, who: Principal, kept: pending.Pending) -> str:
    """Read and check the kept upload again, send its valid documents as the API does, discard it."""
    state = request.app.state
    try:
        records = read_upload(kept.filename, kept.raw, who.username, max_unpacked=settings.upload_max_unpacked_bytes)
        delivered = delivery.deliver(
            settings,
            state.kafka,
            state.registry,
            who,
            records,
            source=auth.client_address(request),
            content_type=f"portal upload: {kept.filename}",
            body_bytes=len(kept.raw),
        )
    except ApiError as error:
        pending.restore(settings, kept)  # nothing was kept of it: it may be confirmed again
        if error.status == 503:
            raise page_error(503, "error.503", error.code) from None
        raise
    except Exception:
        pending.restore(settings, kept)
        raise
    pending.discard(settings, kept.upload_id)
    return delivered.submission_id


# ---------------------------------------------------------------- history and notices


@router.get("/history")
def history_page(request: Request) -> Response:
    found = _require(request)
    rows = history.listed(_settings(request), found.principal)
    return render(request, "history.html", found, rows=rows, jst=JST)


@router.get("/history/{submission_id}")
def history_detail(request: Request, submission_id: str) -> Response:
    found = _require(request)
    state = request.app.state
    shown = history.detail(_settings(request), found.principal, submission_id, state.kafka.epochs)
    if shown is None:
        raise page_error(404, "error.404", "not_found")
    return render(request, "history_detail.html", found, submission=shown, jst=JST)


@router.get("/notices")
def notices_page(request: Request) -> Response:
    found = _require(request)
    return render(request, "notices.html", found, notices=notices_of(request, found.principal))


@router.get("/static/portal.css")
def stylesheet() -> Response:
    return Response(CSS, media_type="text/css; charset=utf-8")
