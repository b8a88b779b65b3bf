"""Signing keys: add, list, revoke, the key ring the lander checks against, and the platform's own
operator key.

The secret is returned once by :func:`add_key`; the store keeps it encrypted with the platform key
(:mod:`kouiki.identity.platform_key`), bound to its key id. Revoked keys stay in the ring with their
``revoked_at``, so events signed while a key was active still verify.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from kouiki.config import Settings
from kouiki.identity import audit, codes, store
from kouiki.identity.errors import IdentityError
from kouiki.identity.keys import OPERATOR_SCOPE, KeyRing, SigningKey, new_key_id, scope_of
from kouiki.identity.platform_key import SecretBox, platform_key

PLATFORM_PURPOSE = "platform"  # the platform's own operator key


class NewKey(NamedTuple):
    """Shown once."""

    key_id: str
    secret: str


@dataclass(frozen=True)
class KeyRecord:
    """A key as listed: never its secret."""

    key_id: str
    scope: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _scope(scope: str) -> str:
    return scope if scope == OPERATOR_SCOPE else codes.consortium_code(scope)


def add_key(
    settings: Settings, scope: str, *, actor: str | None = None, source: str = audit.LOCAL, purpose: str = ""
) -> NewKey:
    """A new key for one consortium (its code) or an operator key (``operator``); the secret once."""
    _scope(scope)
    box = SecretBox(platform_key(settings))
    key_id, secret = new_key_id(scope), secrets.token_urlsafe(32)
    with store.engine(settings).begin() as conn:
        conn.execute(
            sa.insert(store.keys).values(
                key_id=key_id,
                scope=scope,
                secret_encrypted=box.seal(key_id, secret),
                created_at=store.now(),
                purpose=purpose or None,
            )
        )
        detail = {"purpose": purpose} if purpose else {}
        audit.record(conn, actor or audit.local_actor(), "key.add", key_id, source, scope=scope, **detail)
    return NewKey(key_id, secret)


def list_keys(settings: Settings, *, include_revoked: bool = True) -> list[KeyRecord]:
    k = store.keys
    query = sa.select(k.c.key_id, k.c.scope, k.c.created_at, k.c.revoked_at).order_by(k.c.scope, k.c.created_at)
    if not include_revoked:
        query = query.where(k.c.revoked_at.is_(None))
    with store.engine(settings).connect() as conn:
        return [KeyRecord(r.key_id, r.scope, r.created_at, r.revoked_at) for r in conn.execute(query)]


def revoke_key(settings: Settings, key_id: str, *, actor: str | None = None, source: str = audit.LOCAL) -> None:
    """From now on, events signed with this key are dead-lettered as ``revoked_key``."""
    with store.engine(settings).begin() as conn:
        row = conn.execute(sa.select(store.keys.c.revoked_at).where(store.keys.c.key_id == key_id)).first()
        if row is None:
            raise IdentityError(f"no key {key_id!r}")
        if row.revoked_at is not None:
            raise IdentityError(f"key {key_id!r} was revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC")
        conn.execute(sa.update(store.keys).where(store.keys.c.key_id == key_id).values(revoked_at=store.now()))
        audit.record(conn, actor or audit.local_actor(), "key.revoke", key_id, source, scope=scope_of(key_id))


def keyring(settings: Settings) -> KeyRing:
    """Every key, revoked ones included, with its secret decrypted: what the lander loads once per run."""
    with store.engine(settings).connect() as conn:
        rows = conn.execute(sa.select(store.keys)).all()
    if not rows:
        return {}
    box = SecretBox(platform_key(settings, create=False))
    return {
        r.key_id: SigningKey(
            key_id=r.key_id,
            secret=box.open(r.key_id, r.secret_encrypted),
            operator=r.scope == OPERATOR_SCOPE,
            consortium_code=None if r.scope == OPERATOR_SCOPE else r.scope,
            created_at=r.created_at,
            revoked_at=r.revoked_at,
        )
        for r in rows
    }


def ensure_operator_key(settings: Settings, *, actor: str | None = None) -> SigningKey:
    """The platform's own operator key (``kouiki demo``/``up`` sign the sample data with it): created
    once, reused while active, replaced when revoked."""
    k = store.keys
    with store.engine(settings).connect() as conn:
        row = conn.execute(
            sa.select(k)
            .where(k.c.purpose == PLATFORM_PURPOSE, k.c.revoked_at.is_(None))
            .order_by(k.c.created_at.desc())
            .limit(1)
        ).first()
    if row is None:
        add_key(settings, OPERATOR_SCOPE, actor=actor or "platform", purpose=PLATFORM_PURPOSE)
        return ensure_operator_key(settings, actor=actor)
    secret = SecretBox(platform_key(settings, create=False)).open(row.key_id, row.secret_encrypted)
    return SigningKey(row.key_id, secret, True, None, row.created_at)
