"""Checked uploads waiting for the secretariat to confirm: the file under
``<run dir>/portal/uploads/<random id>`` (owner-only), a row binding the id to its user, and one hour
to confirm before it is discarded."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from kouiki.config import Settings
from kouiki.gateway.portal.sessions import engine, uploads
from kouiki.identity import store

LIFETIME = timedelta(hours=1)
_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class Pending:
    upload_id: str
    filename: str
    raw: bytes
    username: str
    created_at: datetime


def folder(settings: Settings) -> Path:
    return settings.run_dir / "portal" / "uploads"


def keep(settings: Settings, username: str, filename: str, raw: bytes) -> str:
    """Keep a checked upload for ``username``; its id. Uploads older than an hour are discarded."""
    discard_expired(settings)
    upload_id = secrets.token_urlsafe(24)
    where = folder(settings)
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = where / upload_id
    path.touch(mode=0o600)
    path.write_bytes(raw)
    with engine(settings).begin() as conn:
        conn.execute(
            sa.insert(uploads).values(
                upload_id=upload_id,
                username=username,
                filename=filename[:255],
                body_bytes=len(raw),
                created_at=store.now(),
            )
        )
    return upload_id


def take(settings: Settings, username: str, upload_id: str, now: datetime | None = None) -> Pending | None:
    """Claim the upload ``upload_id`` when it is ``username``'s and under an hour old: its row is
    removed, so of two confirmations of one upload (a double click) only one sends it. ``restore``
    puts it back when sending failed; ``discard`` removes the file once sent."""
    if not _ID.match(upload_id):
        return None
    with engine(settings).begin() as conn:
        row = conn.execute(
            sa.select(uploads).where(
                uploads.c.upload_id == upload_id,
                uploads.c.username == username,
                uploads.c.created_at > (now or store.now()) - LIFETIME,
            )
        ).first()
        if row is None or conn.execute(sa.delete(uploads).where(uploads.c.upload_id == upload_id)).rowcount != 1:
            return None
    try:
        raw = (folder(settings) / upload_id).read_bytes()
    except FileNotFoundError:
        return None
    return Pending(upload_id, row.filename, raw, username, row.created_at)


def restore(settings: Settings, kept: Pending) -> None:
    """Put back an upload ``take`` claimed (sending it failed: it may be confirmed again)."""
    with engine(settings).begin() as conn:
        conn.execute(
            sa.insert(uploads).values(
                upload_id=kept.upload_id,
                username=kept.username,
                filename=kept.filename,
                body_bytes=len(kept.raw),
                created_at=kept.created_at,
            )
        )


def discard(settings: Settings, upload_id: str) -> None:
    with engine(settings).begin() as conn:
        conn.execute(sa.delete(uploads).where(uploads.c.upload_id == upload_id))
    if _ID.match(upload_id):
        (folder(settings) / upload_id).unlink(missing_ok=True)


def discard_expired(settings: Settings) -> None:
    with engine(settings).connect() as conn:
        expired = conn.execute(
            sa.select(uploads.c.upload_id).where(uploads.c.created_at <= store.now() - LIFETIME)
        ).scalars()
        ids = list(expired)
    for upload_id in ids:
        discard(settings, upload_id)
