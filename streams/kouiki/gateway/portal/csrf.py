"""Cross-site request forgery: every POST form carries a synchronizer token in a hidden field, the
session's (see ``sessions.csrf_token``), or before login the value of a pre-session cookie
(double submit). A POST whose Origin header names another host is refused as well."""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request

from kouiki.config import Settings
from kouiki.identity import audit, store

FIELD = "csrf_token"
LOGIN_COOKIE = "kouiki_login_csrf"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class CsrfRefused(Exception):
    """A POST without a valid token, or from another origin (answered 403, audited)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def login_token(kept: str | None) -> str:
    """The login form's token: the browser's pre-session cookie when it has a well-formed one, else new."""
    if kept and _TOKEN.match(kept):
        return kept
    return secrets.token_urlsafe(32)


def check_origin(request: Request) -> None:
    """Refuse a POST whose Origin is present and is not this host."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if origin == "null" or not host or urlsplit(origin).netloc.lower() != host.lower():
        raise CsrfRefused("foreign_origin")


def check(request: Request, submitted: str | None, expected: str | None) -> None:
    """The Origin check, then the token: refused unless ``submitted`` equals ``expected``."""
    check_origin(request)
    if not submitted or not expected:
        raise CsrfRefused("missing_token")
    if not hmac.compare_digest(submitted.encode("utf-8"), expected.encode("utf-8")):
        raise CsrfRefused("wrong_token")


def refused(settings: Settings, actor: str, path: str, source: str, reason: str) -> None:
    with store.engine(settings).begin() as conn:
        audit.record(conn, actor[:200], "portal.csrf.refused", path[:200], source, reason=reason)
