"""Signing keys and what each may write: the key ring the lander checks signatures against.

A key id names its holder's scope before anything is looked up: ``<CONSORTIUM_CODE>.<random>`` for a
key of one consortium (a secretariat's or a consortium system's), ``operator.<random>`` for an
operator key; the store (``identity.store``) is what says whether the key exists, is active and
what its secret is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

OPERATOR_SCOPE = "operator"

# dead-letter reasons (the __connect.errors.exception.class.name of a refused event)
UNSIGNED = "unsigned"
BAD_SIGNATURE = "bad_signature"
UNKNOWN_KEY = "unknown_key"
REVOKED_KEY = "revoked_key"
NOT_AUTHORIZED = "not_authorized"


def new_key_id(scope: str) -> str:
    """A key id for a consortium code, or for ``OPERATOR_SCOPE``."""
    return f"{scope}.{secrets.token_hex(8)}"


def scope_of(key_id: str) -> str:
    """The consortium code (or ``operator``) a key id names."""
    return key_id.rsplit(".", 1)[0]


@dataclass(frozen=True)
class SigningKey:
    """One key as the lander needs it; ``secret`` only ever in memory, decrypted from the store."""

    key_id: str
    secret: str = field(repr=False)  # never in a log line or a traceback
    operator: bool
    consortium_code: str | None  # the one consortium a non-operator key writes for
    created_at: datetime
    revoked_at: datetime | None = None

    def active_at(self, moment: datetime) -> bool:
        return self.created_at <= moment and (self.revoked_at is None or moment < self.revoked_at)

    def may_write(self, kind: str, consortium_code: str) -> bool:
        """A consortium registration needs an operator key; a project registration or a report, a key
        of that consortium (or an operator key)."""
        if self.operator:
            return True
        return kind != "consortium" and consortium_code == self.consortium_code


KeyRing = dict[str, SigningKey]
