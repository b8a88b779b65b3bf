"""The append-only audit log: who did what to whom, when, and from where.

Rows are only ever inserted (the package has no update or delete of ``audit``); operators read them
with :func:`entries`.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kouiki.config import Settings
from kouiki.identity import store

LOCAL = "local"


def local_actor() -> str:
    """Who runs a command on this machine: ``<os user>@<host>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    source: str


def record(conn: sa.Connection, actor: str, action: str, subject: str, source: str, **detail: Any) -> None:
    """Append one entry inside the caller's transaction (so a change and its entry commit together)."""
    conn.execute(
        sa.insert(store.audit).values(
            at=store.now(), actor=actor, action=action, subject=subject, detail=detail, source=source
        )
    )


def entries(settings: Settings, *, since: datetime | None = None, limit: int | None = None) -> list[AuditEntry]:
    """The log, oldest first (the last ``limit`` entries when given)."""
    query = sa.select(store.audit).order_by(store.audit.c.id.desc())
    if since is not None:
        query = query.where(store.audit.c.at >= since)
    if limit is not None:
        query = query.limit(limit)
    with store.engine(settings).connect() as conn:
        rows = conn.execute(query).all()
    return [
        AuditEntry(at=r.at, actor=r.actor, action=r.action, subject=r.subject, detail=dict(r.detail), source=r.source)
        for r in reversed(rows)
    ]
