"""Portal logins: a server-side session table in the identity store's database. The browser holds a
random id (``secrets.token_urlsafe``); the table keeps only its SHA-256. A session ends after
``portal_session_hours`` without a request, at logout, or at once when its user is revoked or their
password is reset (the user is read again on every request). Checked uploads waiting for
confirmation are kept the same way."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kouiki.config import Settings
from kouiki.gateway import tables
from kouiki.identity import store
from kouiki.identity.principal import Principal

COOKIE = "kouiki_session"
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute per session

metadata = sa.MetaData()

sessions = sa.Table(
    "portal_sessions",
    metadata,
    sa.Column("session_sha256", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", store.UtcDateTime, nullable=False),
    sa.Column("last_seen", store.UtcDateTime, nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("password_stamp", sa.String(64), nullable=False),  # of the hash logged in with: a reset ends it
)

uploads = sa.Table(
    "portal_uploads",
    metadata,
    sa.Column("upload_id", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("body_bytes", sa.Integer, nullable=False),
    sa.Column("created_at", store.UtcDateTime, nullable=False, index=True),
)


def engine(settings: Settings) -> Engine:
    """The identity store's engine, with the sessions table created once per process."""
    return tables.engine(settings, metadata)


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def stamp(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()


def csrf_token(session_id: str) -> str:
    """The session's synchronizer token: derived from the id (so nothing more is stored), and the id
    cannot be recovered from it."""
    return hmac.new(session_id.encode("utf-8"), b"kouiki-portal-csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    session_id: str
    principal: Principal

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_id)


def start(settings: Settings, username: str, source: str, previous: str | None = None) -> str:
    """A new session for ``username`` (a fresh id: the one the browser had before, if any, ends)."""
    session_id = secrets.token_urlsafe(32)
    moment = store.now()
    stale = moment - timedelta(hours=settings.portal_session_hours)
    with engine(settings).begin() as conn:
        conn.execute(sa.delete(sessions).where(sessions.c.last_seen <= stale))
        if previous:
            conn.execute(sa.delete(sessions).where(sessions.c.session_sha256 == digest(previous)))
        password_hash = conn.execute(
            sa.select(store.users.c.password_hash).where(store.users.c.username == username)
        ).scalar_one()
        conn.execute(
            sa.insert(sessions).values(
                session_sha256=digest(session_id),
                username=username,
                password_stamp=stamp(password_hash),
                created_at=moment,
                last_seen=moment,
                source=source[:200],
            )
        )
    return session_id


def current(settings: Settings, session_id: str | None, now: datetime | None = None) -> Session | None:
    """The live session of this id and its (active) user, touched; None when there is none, it
    expired, or the user was revoked (the session is then ended)."""
    if not session_id or len(session_id) > 200:
        return None
    moment = now or store.now()
    u = store.users
    key = digest(session_id)
    with engine(settings).connect() as conn:
        row = conn.execute(
            sa.select(
                sessions.c.last_seen,
                sessions.c.password_stamp,
                u.c.username,
                u.c.kind,
                u.c.consortia,
                u.c.revoked_at,
                u.c.password_hash,
            )
            .select_from(sessions.join(u, u.c.username == sessions.c.username))
            .where(sessions.c.session_sha256 == key)
        ).first()
    if row is None:
        return None
    expired = row.last_seen + timedelta(hours=settings.portal_session_hours) <= moment
    if row.revoked_at is not None or expired or not hmac.compare_digest(row.password_stamp, stamp(row.password_hash)):
        end(settings, session_id)
        return None
    if moment - row.last_seen >= TOUCH_EVERY:
        with engine(settings).begin() as conn:
            conn.execute(sa.update(sessions).where(sessions.c.session_sha256 == key).values(last_seen=moment))
    return Session(session_id, Principal(row.username, row.kind, tuple(row.consortia)))


def end(settings: Settings, session_id: str) -> None:
    with engine(settings).begin() as conn:
        conn.execute(sa.delete(sessions).where(sessions.c.session_sha256 == digest(session_id)))
