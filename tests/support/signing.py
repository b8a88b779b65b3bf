"""Signing in tests: the platform's operator key for tests that only need their events signed, and
keys made on the spot (a ``KeyRing`` handed to the lander) for tests about who may write what."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime
from pathlib import Path

from kouiki.config import Settings
from kouiki.contract.signature import signed_headers
from kouiki.identity.keys import OPERATOR_SCOPE, KeyRing, SigningKey, new_key_id
from kouiki.identity.signing_keys import ensure_operator_key
from kouiki.identity.signing_keys import keyring as stored_keyring
from tests.support import platform

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def signed(settings: Settings) -> Settings:
    """``settings`` with the platform's operator key as the submit key (created on first use; the
    lander finds it in the key ring of the same data directory)."""
    key = ensure_operator_key(settings)
    return dataclasses.replace(settings, key_id=key.key_id, key_secret=key.secret)


def settings_for(data_dir: Path, bootstrap: str, **overrides: object) -> Settings:
    """``platform.settings_for``, signed with the platform's operator key."""
    return signed(platform.settings_for(data_dir, bootstrap, **overrides))


def headers(value: bytes, settings: Settings) -> list[tuple[str, bytes]]:
    """The signature headers of ``value`` with the submit key of ``settings`` (see ``signed``)."""
    return signed_headers(value, settings.key_id, settings.key_secret)


def new_key(scope: str, *, created_at: datetime = LONG_AGO, revoked_at: datetime | None = None) -> SigningKey:
    """A key of consortium ``scope`` (or ``operator``), made here, not stored anywhere."""
    operator = scope == OPERATOR_SCOPE
    return SigningKey(
        new_key_id(scope), secrets.token_hex(32), operator, None if operator else scope, created_at, revoked_at
    )


def keyring(settings: Settings, *keys: SigningKey) -> KeyRing:
    """The data directory's key ring (the operator key among them) plus ``keys``."""
    return {**stored_keyring(settings), **{k.key_id: k for k in keys}}


def key_headers(value: bytes, key: SigningKey) -> list[tuple[str, bytes]]:
    return signed_headers(value, key.key_id, key.secret)
