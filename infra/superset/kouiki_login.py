"""Superset logs Kouiki's people in against the Kouiki identity store, not its own user table.

Loaded by ``superset_config.py`` inside Superset's own environment, so the standard library only:
``sqlite3`` reads the embedded store (read-only) and ``hashlib.scrypt`` checks the password hash in the
form ``kouiki.identity.passwords`` writes (``scrypt$n$r$p$salt$hash``, constant-time comparison).
A PostgreSQL store needs a PostgreSQL driver in Superset's environment (not installed locally); until
then, and whenever the store cannot be read, Superset's own table decides, which lets the admin in and
no Kouiki user (their Superset passwords are random and known to no one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import sqlite3
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)

# Superset accounts that Kouiki manages: the others (the platform's admin) keep Superset's own login.
SUPERSET_KINDS = ("cabinet", "secretariat")


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///`` URL, else None."""
    parsed = urlparse(url)
    if parsed.scheme != "sqlite":
        return None
    return unquote(parsed.path[1:] if parsed.path.startswith("//") else parsed.path)


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


def _row(url: str, username: str) -> tuple[str, str, str | None] | None:
    path = sqlite_path(url)
    if path is None:
        raise RuntimeError("the Kouiki identity store is not SQLite; Superset has no driver for it")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        row = con.execute(
            "select kind, password_hash, revoked_at from users where username = ?", (username,)
        ).fetchone()
    finally:
        con.close()
    return None if row is None else (str(row[0]), str(row[1]), row[2])


def check(url: str, username: str, password: str) -> bool | None:
    """None when ``username`` is not a Kouiki user (Superset's own login applies); otherwise whether it
    is an active Cabinet Office or secretariat user whose password this is."""
    try:
        row = _row(url, username)
    except (sqlite3.Error, RuntimeError) as exc:
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
    path = sqlite_path(url)
    if path is None:
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("select consortia from users where username = ?", (username,)).fetchone()
    finally:
        con.close()
    return [] if row is None else list(json.loads(row[0]))
