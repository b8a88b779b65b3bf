"""Superset logs Kouiki's people in against the Kouiki identity store, not its own user table.

Loaded by ``superset_config.py`` inside Superset's own environment, so the standard library only, but
for the PostgreSQL driver: ``sqlite3`` reads the embedded store (read-only), ``psycopg2`` (imported only
for a ``postgresql://`` or ``postgresql+psycopg2://`` URL, as requirements/superset.in installs it) reads
the production store in a read-only transaction, and ``hashlib.scrypt`` checks the password hash in the
form ``kouiki.identity.passwords`` writes (``scrypt$n$r$p$salt$hash``, constant-time comparison).
Whenever the store cannot be read (no driver for its URL, no server, no table), Superset's own table
decides, which lets the admin in and no Kouiki user (their Superset passwords are random and known to
no one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import sqlite3
from typing import Any
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)

# Superset accounts that Kouiki manages: the others (the platform's admin) keep Superset's own login.
SUPERSET_KINDS = ("cabinet", "secretariat")
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg2")
CONNECT_TIMEOUT_S = 10


class StoreUnavailable(RuntimeError):
    """The identity store cannot be read."""


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///`` URL, else None."""
    parsed = urlparse(url)
    if parsed.scheme != "sqlite":
        return None
    return unquote(parsed.path[1:] if parsed.path.startswith("//") else parsed.path)


def postgres_dsn(url: str) -> str | None:
    """The libpq URI of a SQLAlchemy ``postgresql[+psycopg2]://`` URL, else None."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in POSTGRES_SCHEMES:
        return None
    return f"postgresql://{rest}"


def _verify(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
            dklen=32,
        )
        return hmac.compare_digest(computed, base64.b64decode(digest))
    except ValueError:
        return False


def _query(url: str, sql: str, username: str) -> tuple[Any, ...] | None:
    """One row of ``sql`` (a ``?`` placeholder for the username) from the store, read-only."""
    path = sqlite_path(url)
    if path is not None:
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
            try:
                return con.execute(sql, (username,)).fetchone()
            finally:
                con.close()
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc
    dsn = postgres_dsn(url)
    if dsn is None:
        raise StoreUnavailable("the Kouiki identity store is neither SQLite nor PostgreSQL")
    try:
        import psycopg2
    except ImportError as exc:
        raise StoreUnavailable("no PostgreSQL driver (psycopg2) in Superset's environment") from exc
    try:
        con = psycopg2.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, application_name="superset-kouiki-login")
        try:
            con.set_session(readonly=True)
            with con.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), (username,))
                row = cur.fetchone()
            con.rollback()
            return None if row is None else tuple(row)
        finally:
            con.close()
    except psycopg2.Error as exc:
        raise StoreUnavailable(str(exc).strip()) from exc


def _row(url: str, username: str) -> tuple[str, str, object] | None:
    row = _query(url, "select kind, password_hash, revoked_at from users where username = ?", username)
    return None if row is None else (str(row[0]), str(row[1]), row[2])


def check(url: str, username: str, password: str) -> bool | None:
    """None when ``username`` is not a Kouiki user (Superset's own login applies); otherwise whether it
    is an active Cabinet Office or secretariat user whose password this is."""
    try:
        row = _row(url, username)
    except StoreUnavailable as exc:
        log.error("Kouiki login unavailable for %s: the identity store cannot be read (%s)", username, exc)
        # Superset's own table then decides: it lets the admin in, and no Kouiki user, whose Superset
        # password is random and known to no one.
        return None
    if row is None:
        return None
    kind, stored, revoked_at = row
    ok = _verify(password, stored)
    return ok and revoked_at is None and kind in SUPERSET_KINDS


def consortia(url: str, username: str) -> list[str]:
    """A user's consortia (for diagnostics; roles are set by ``kouiki.services.superset.security``)."""
    try:
        row = _query(url, "select consortia from users where username = ?", username)
    except StoreUnavailable:
        return []
    if row is None:
        return []
    value = row[0]  # JSON text in SQLite; psycopg2 decodes PostgreSQL's json type itself
    return list(json.loads(value) if isinstance(value, str) else value)
