"""Which submissions and documents a principal may see in the portal.

Operators and the Cabinet Office see everything. A secretariat sees every submission one of whose
documents names one of its consortia (whoever sent it), and its own submissions; inside them only
the documents naming its consortia, and the documents naming none (unreadable ones) of its own
submissions. A document naming a consortium it may not read is never shown, only counted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kouiki.config import Settings
from kouiki.gateway import status, tables
from kouiki.identity.principal import CABINET, OPERATOR, Principal

LIST_LIMIT = 200


def sees_all(who: Principal) -> bool:
    return who.kind in (OPERATOR, CABINET)


def document_visible(who: Principal, submitted_by: str, consortium_code: str | None) -> bool:
    if sees_all(who):
        return True
    if consortium_code is None:
        return submitted_by == who.username
    return consortium_code in who.consortia


@dataclass
class Listed:
    """One submission as a history row: counts of the documents this principal may see."""

    submission_id: str
    submitted_by: str
    submitted_at: datetime
    content_type: str
    sent: int = 0
    rejected: int = 0
    hidden: int = 0
    projects: set[str] = field(default_factory=set)
    periods: set[str] = field(default_factory=set)
    consortia: set[str] = field(default_factory=set)

    @property
    def documents(self) -> int:
        return self.sent + self.rejected


def listed(settings: Settings, who: Principal, limit: int = LIST_LIMIT) -> list[Listed]:
    """The submissions ``who`` may see, newest first."""
    s, d = tables.submissions, tables.documents
    query = sa.select(s.c.submission_id, s.c.username, s.c.submitted_at, s.c.content_type)
    if not sees_all(who):
        naming = sa.select(d.c.submission_id).where(d.c.consortium_code.in_(who.consortia))
        query = query.where(sa.or_(s.c.submission_id.in_(naming), s.c.username == who.username))
    query = query.order_by(s.c.submitted_at.desc(), s.c.submission_id).limit(limit)
    with tables.engine(settings).connect() as conn:
        rows = conn.execute(query).all()
        found = {r.submission_id: Listed(r.submission_id, r.username, r.submitted_at, r.content_type) for r in rows}
        if not found:
            return []
        counts = conn.execute(
            sa.select(d.c.submission_id, d.c.consortium_code, d.c.status, d.c.project_code, d.c.period, sa.func.count())
            .where(d.c.submission_id.in_(list(found)))
            .group_by(d.c.submission_id, d.c.consortium_code, d.c.status, d.c.project_code, d.c.period)
        ).all()
    for submission_id, code, state, project, period, n in counts:
        entry = found[submission_id]
        if not document_visible(who, entry.submitted_by, code):
            entry.hidden += n
            continue
        if state == "sent":
            entry.sent += n
        else:
            entry.rejected += n
        entry.projects.update([project] if project else [])
        entry.periods.update([period] if period else [])
        entry.consortia.update([code] if code else [])
    return list(found.values())


@dataclass(frozen=True)
class Detail:
    submission_id: str
    submitted_by: str
    submitted_at: datetime
    content_type: str
    documents: list[dict[str, Any]]  # as status.track gives them
    hidden: int


def detail(
    settings: Settings, who: Principal, submission_id: str, epochs: Callable[[], dict[str, str]]
) -> Detail | None:
    """One submission with the status now of each document ``who`` may see; None when it may see
    none of it (or there is no such submission)."""
    s, d = tables.submissions, tables.documents
    with tables.engine(settings).connect() as conn:
        row = conn.execute(sa.select(s).where(s.c.submission_id == submission_id[:36])).first()
        if row is None:
            return None
        docs = conn.execute(sa.select(d).where(d.c.submission_id == row.submission_id).order_by(d.c.id)).all()
    shown = [dict(r._mapping) for r in docs if document_visible(who, row.username, r.consortium_code)]
    if not shown and row.username != who.username and not sees_all(who):
        return None
    tracked = status.track(settings, shown, epochs)
    return Detail(row.submission_id, row.username, row.submitted_at, row.content_type, tracked, len(docs) - len(shown))
