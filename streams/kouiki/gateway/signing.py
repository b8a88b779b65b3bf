"""The gateway's own signing key: an operator-scope key (purpose ``gateway``) created once in the
identity store and reused while active. Operator scope because the gateway itself decides, per
authenticated principal, what may be sent; the lander then accepts what it signed."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from kouiki.config import Settings
from kouiki.identity import signing_keys, store
from kouiki.identity.keys import OPERATOR_SCOPE, SigningKey
from kouiki.identity.platform_key import SecretBox, platform_key

PURPOSE = "gateway"
_lock = threading.Lock()


def _active(settings: Settings) -> Any:
    k = store.keys
    with store.engine(settings).connect() as conn:
        return conn.execute(
            sa.select(k.c.key_id, k.c.secret_encrypted, k.c.created_at)
            .where(k.c.purpose == PURPOSE, k.c.revoked_at.is_(None))
            .order_by(k.c.created_at.desc())
            .limit(1)
        ).first()


def gateway_key(settings: Settings) -> SigningKey:
    """The active gateway key (looked up per submission, so a revoked one is replaced at once)."""
    with _lock:
        row = _active(settings)
        if row is None:
            signing_keys.add_key(settings, OPERATOR_SCOPE, actor="gateway", purpose=PURPOSE)
            row = _active(settings)
    secret = SecretBox(platform_key(settings, create=False)).open(row.key_id, row.secret_encrypted)
    return SigningKey(row.key_id, secret, True, None, row.created_at)
