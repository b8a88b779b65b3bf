"""Security basics every response and request gets: headers, body limits, and a limit on failed
token attempts per client address."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kouiki.gateway.errors import ApiError

API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# The interactive docs (Swagger UI, ReDoc) load their scripts and styles from FastAPI's CDN.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
# The portal's pages: its one style sheet, forms posting to itself; no script, no inline style.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json", "/healthz")


def is_page(path: str) -> bool:
    """Whether ``path`` is one of the portal's pages (HTML), not the API or its documentation."""
    return not path.startswith(NOT_PAGES)


def headers_for(path: str) -> dict[str, str]:
    headers = dict(API_HEADERS)
    if path.startswith(DOCS_PATHS):
        headers["Content-Security-Policy"] = DOCS_CSP
    elif is_page(path):
        headers["Content-Security-Policy"] = PAGE_CSP
        # With no-referrer, browsers send "Origin: null" on the portal's own form posts, which the
        # CSRF origin check must refuse; same-origin still sends nothing to any other site.
        headers["Referrer-Policy"] = "same-origin"
    return headers


class SecurityHeaders:
    """Pure ASGI middleware: the security headers on every response (replacing any the app set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(k.lower().encode(), v.encode()) for k, v in headers_for(scope["path"]).items()]
        names = {k for k, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        f"the request body is over the limit of {limit:,} bytes; split the submission",
        f"リクエストが大きすぎます（上限 {limit:,} バイト）。分割して送信してください",
    )


async def read_limited(content_length: str | None, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it is known to be over ``limit``: from the
    declared Content-Length before reading anything, else while counting what arrives."""
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise ApiError(
                400, "bad_content_length", "Content-Length is not a number", "Content-Length が不正です"
            ) from None
        if declared > limit:
            raise too_large(limit)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


class FailureLimiter:
    """At most ``limit`` failed token attempts per client address in ``window`` seconds (in memory,
    per gateway process); after that the address is answered 429 until the oldest failure ages out."""

    def __init__(self, limit: int = 10, window: float = 60.0, max_addresses: int = 100_000) -> None:
        self.limit, self.window, self.max_addresses = limit, window, max_addresses
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.get(address, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, None when it may now."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(address, now)
            if len(failures) < self.limit:
                return None
            return max(1, math.ceil(failures[0] + self.window - now))

    def fail(self, address: str) -> bool:
        """Count one failure; True when this one reaches the limit."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.max_addresses:
                self._failures = {a: f for a, f in self._failures.items() if self._recent(a, now)}
            failures = self._recent(address, now)
            failures.append(now)
            self._failures[address] = failures
            return len(failures) == self.limit
