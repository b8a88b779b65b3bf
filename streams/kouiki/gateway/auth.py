"""Who is asking: ``Authorization: Bearer <token>`` checked against the identity store, with failed
attempts limited per client address and every failure audited (never the token itself)."""

from __future__ import annotations

from fastapi import Request

from kouiki.config import Settings
from kouiki.gateway.errors import ApiError, unauthorized
from kouiki.gateway.security import FailureLimiter
from kouiki.identity import audit, store, users
from kouiki.identity.principal import OPERATOR, Principal


def client_address(request: Request) -> str:
    """The peer address (uvicorn runs without proxy headers, so a client cannot choose it)."""
    return request.client.host if request.client else "unknown"


def _refuse(settings: Settings, source: str, reason: str) -> None:
    with store.engine(settings).begin() as conn:
        audit.record(conn, "unknown", "login.token.refused", "-", source, reason=reason)


def authenticate(settings: Settings, limiter: FailureLimiter, header: str | None, source: str) -> Principal:
    """The principal of a bearer token, or ApiError 401 (429 while the address is throttled)."""
    wait = limiter.retry_after(source)
    if wait is not None:
        raise ApiError(
            429,
            "too_many_failures",
            f"too many failed token attempts from {source}; try again in {wait} s",
            f"トークンの失敗が多すぎます。{wait} 秒後に再試行してください",
            {"Retry-After": str(wait)},
        )
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    principal = None
    if scheme.lower() != "bearer" or not token:
        _refuse(settings, source, "missing_token" if not header else "not_bearer")
    elif len(token) > 512:
        _refuse(settings, source, "malformed_token")
    else:
        principal = users.authenticate_token(settings, token, source=source)  # audits both outcomes
    if principal is None:
        if limiter.fail(source):
            _refuse(settings, source, "throttled")  # once per window: the address is now refused for a while
        raise unauthorized()
    return principal


def principal(request: Request) -> Principal:
    """FastAPI dependency: the authenticated principal of this request."""
    state = request.app.state
    return authenticate(state.settings, state.failures, request.headers.get("authorization"), client_address(request))


def operator(request: Request) -> Principal:
    """FastAPI dependency: an authenticated operator, else 403."""
    who = principal(request)
    if who.kind != OPERATOR:
        raise ApiError(403, "forbidden", "only operators may read this", "運用者のみ参照できます")
    return who
