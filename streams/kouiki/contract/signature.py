"""Event signatures: HMAC-SHA256 over the exact message value bytes, in two Kafka headers.

The webhook convention (``sha256=`` + lowercase hex), so any Kafka client in any language can sign
with its standard library::

    kouiki-key-id:    <key id, ASCII>
    kouiki-signature: sha256=<hex HMAC-SHA256 of the value, keyed with the secret's UTF-8 bytes>
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from functools import lru_cache

KEY_ID_HEADER = "kouiki-key-id"
SIGNATURE_HEADER = "kouiki-signature"
PREFIX = "sha256="


def signature(value: bytes, secret: str) -> str:
    """The ``kouiki-signature`` header value for ``value`` signed with ``secret``."""
    mac = _keyed(secret).copy()
    mac.update(value)
    return PREFIX + mac.hexdigest()


@lru_cache(maxsize=64)
def _keyed(secret: str) -> hmac.HMAC:
    """The HMAC state after the key, which ``copy`` reuses: a submission signs thousands of events
    with one key, and keying costs as much as hashing a report."""
    return hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)


def signed_headers(value: bytes, key_id: str, secret: str) -> list[tuple[str, bytes]]:
    """Both headers, as Kafka clients take them."""
    return [(KEY_ID_HEADER, key_id.encode("ascii")), (SIGNATURE_HEADER, signature(value, secret).encode("ascii"))]


def matches(value: bytes, secret: str, header: bytes | str) -> bool:
    """Whether ``header`` is the signature of ``value`` with ``secret`` (constant-time comparison)."""
    given = header.encode("ascii", "replace") if isinstance(header, str) else header
    return hmac.compare_digest(given, signature(value, secret).encode("ascii"))


def header_values(headers: Iterable[tuple[str, bytes | None]] | None) -> tuple[str | None, bytes | None]:
    """The key id and the signature of a message's headers; None where missing (the first of each counts)."""
    key_id: str | None = None
    sig: bytes | None = None
    for name, value in headers or ():
        if name == KEY_ID_HEADER and key_id is None and value is not None:
            key_id = value.decode("ascii", "replace")
        elif name == SIGNATURE_HEADER and sig is None and value is not None:
            sig = value
    return key_id, sig
