"""Passwords and bearer tokens, as the store keeps them: a memory-hard hash and a SHA-256 digest.

A password is hashed with scrypt (n=2**14, r=8, p=1: 16 MiB per attempt) and a per-user salt, in
the self-describing form ``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>`` (Superset's login
check in ``infra/superset/kouiki_login.py`` reads the same form with the standard library only).
A token is 256 random bits; the store keeps its SHA-256 only, which is enough because a token,
unlike a password, cannot be guessed. Every comparison is constant-time.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_DKLEN = 32
_MAXMEM = 64 * 1024 * 1024
TOKEN_PREFIX = "kouiki_"  # noqa: S105 - a visible prefix, not a secret


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_DKLEN)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user does not exist, so an unknown name costs as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; None (no such user) costs the same and is False."""
    try:
        scheme, n, r, p, salt, digest = (stored or _dummy_hash()).split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(computed, base64.b64decode(digest)) and stored is not None
    except ValueError:
        return False


def new_password() -> str:
    return secrets.token_urlsafe(18)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the store keeps of a token: its SHA-256, lowercase hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
