"""People: add, list, revoke, and authenticate by password (web login) or bearer token (REST API).

The password and token are returned once, by :func:`add_user` (and :func:`issue_token`); the store
keeps only their scrypt hash and SHA-256 digest. Every change and every login attempt is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from kouiki.config import Settings
from kouiki.identity import audit, codes, passwords, store
from kouiki.identity.errors import IdentityError
from kouiki.identity.principal import KINDS, SECRETARIAT, Principal


class NewUser(NamedTuple):
    """Shown once: the password is for the web login, the token for the REST API."""

    username: str
    password: str
    token: str


@dataclass(frozen=True)
class UserRecord:
    """A user as listed: no hash, no token."""

    username: str
    kind: str
    consortia: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    active_tokens: int
    email: str | None = None  # where notice digests go (secretariats)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def principal(self) -> Principal:
        return Principal(self.username, self.kind, self.consortia)


def _consortia(kind: str, consortia: list[str] | tuple[str, ...]) -> list[str]:
    if kind not in KINDS:
        raise IdentityError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    if kind == SECRETARIAT and not consortia:
        raise IdentityError("a secretariat needs at least one consortium")
    if kind != SECRETARIAT and consortia:
        raise IdentityError(f"a {kind} user belongs to no consortium")
    return sorted({codes.consortium_code(c) for c in consortia})


def add_user(
    settings: Settings,
    username: str,
    kind: str,
    consortia: list[str] | tuple[str, ...] = (),
    *,
    email: str | None = None,
    actor: str | None = None,
    source: str = audit.LOCAL,
) -> NewUser:
    """Create a user with a fresh password and token, returned once, and optionally the e-mail
    address notice digests go to."""
    codes.username(username)
    members = _consortia(kind, consortia)
    if email is not None:
        codes.email(email)
    password, token = passwords.new_password(), passwords.new_token()
    password_hash = passwords.hash_password(password)
    moment = store.now()
    with store.engine(settings).begin() as conn:
        if conn.execute(sa.select(store.users.c.id).where(store.users.c.username == username)).first():
            raise IdentityError(f"user {username!r} already exists (a revoked name is not reused)")
        try:
            user_id = conn.execute(
                sa.insert(store.users)
                .values(
                    username=username,
                    kind=kind,
                    consortia=members,
                    password_hash=password_hash,
                    created_at=moment,
                    email=email,
                )
                .returning(store.users.c.id)
            ).scalar_one()
        except sa.exc.IntegrityError as exc:  # a concurrent add of the same name
            raise IdentityError(f"user {username!r} already exists") from exc
        conn.execute(
            sa.insert(store.tokens).values(
                user_id=user_id, token_sha256=passwords.token_digest(token), created_at=moment
            )
        )
        extra = {"email": email} if email is not None else {}
        audit.record(
            conn, actor or audit.local_actor(), "user.add", username, source, kind=kind, consortia=members, **extra
        )
    return NewUser(username, password, token)


def set_email(
    settings: Settings, username: str, address: str | None, *, actor: str | None = None, source: str = audit.LOCAL
) -> None:
    """Set, change or (``None``) remove the e-mail address of an active user."""
    if address is not None:
        codes.email(address)
    with store.engine(settings).begin() as conn:
        user_id = _active_user_id(conn, username)
        conn.execute(sa.update(store.users).where(store.users.c.id == user_id).values(email=address))
        audit.record(conn, actor or audit.local_actor(), "user.set_email", username, source, email=address)


def issue_token(settings: Settings, username: str, *, actor: str | None = None, source: str = audit.LOCAL) -> str:
    """Another bearer token for an active user (shown once)."""
    token = passwords.new_token()
    with store.engine(settings).begin() as conn:
        user_id = _active_user_id(conn, username)
        conn.execute(
            sa.insert(store.tokens).values(
                user_id=user_id, token_sha256=passwords.token_digest(token), created_at=store.now()
            )
        )
        audit.record(conn, actor or audit.local_actor(), "token.issue", username, source)
    return token


def _active_user_id(conn: sa.Connection, username: str) -> int:
    row = conn.execute(
        sa.select(store.users.c.id, store.users.c.revoked_at).where(store.users.c.username == username)
    ).first()
    if row is None:
        raise IdentityError(f"no user {username!r}")
    if row.revoked_at is not None:
        raise IdentityError(f"user {username!r} was revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC")
    return int(row.id)


def list_users(settings: Settings, *, include_revoked: bool = True) -> list[UserRecord]:
    u, t = store.users, store.tokens
    active_tokens = (
        sa.select(sa.func.count())
        .select_from(t)
        .where(t.c.user_id == u.c.id, t.c.revoked_at.is_(None))
        .scalar_subquery()
    )
    query = sa.select(
        u.c.username, u.c.kind, u.c.consortia, u.c.created_at, u.c.revoked_at, active_tokens.label("n"), u.c.email
    ).order_by(u.c.username)
    if not include_revoked:
        query = query.where(u.c.revoked_at.is_(None))
    with store.engine(settings).connect() as conn:
        rows = conn.execute(query).all()
    return [
        UserRecord(r.username, r.kind, tuple(r.consortia), r.created_at, r.revoked_at, int(r.n), r.email) for r in rows
    ]


def revoke_user(settings: Settings, username: str, *, actor: str | None = None, source: str = audit.LOCAL) -> None:
    """Revoke the user and every token of theirs; their name is never given out again."""
    moment = store.now()
    with store.engine(settings).begin() as conn:
        user_id = _active_user_id(conn, username)
        conn.execute(sa.update(store.users).where(store.users.c.id == user_id).values(revoked_at=moment))
        revoked = conn.execute(
            sa.update(store.tokens)
            .where(store.tokens.c.user_id == user_id, store.tokens.c.revoked_at.is_(None))
            .values(revoked_at=moment)
        ).rowcount
        audit.record(conn, actor or audit.local_actor(), "user.revoke", username, source, tokens_revoked=revoked)


def authenticate_password(
    settings: Settings, username: str, password: str, *, source: str = audit.LOCAL
) -> Principal | None:
    """The principal when ``username`` is active and ``password`` is theirs; None otherwise (audited)."""
    with store.engine(settings).connect() as conn:
        row = conn.execute(sa.select(store.users).where(store.users.c.username == username)).first()
    ok = passwords.verify_password(password, row.password_hash if row is not None else None)
    principal = None
    if ok and row is not None and row.revoked_at is None:
        principal = Principal(row.username, row.kind, tuple(row.consortia))
    reason = "ok" if principal else ("unknown_user" if row is None else "revoked" if ok else "wrong_password")
    with store.engine(settings).begin() as conn:
        audit.record(
            conn,
            username[:200],
            "login.password" if principal else "login.password.refused",
            username[:200],
            source,
            reason=reason,
        )
    return principal


def authenticate_token(settings: Settings, token: str, *, source: str = audit.LOCAL) -> Principal | None:
    """The principal whose active token this is; None for an unknown, revoked or expired token, or a
    revoked user (audited).

    The lookup is by the token's SHA-256, so the clear token never meets the database."""
    u, t = store.users, store.tokens
    digest = passwords.token_digest(token)
    with store.engine(settings).begin() as conn:
        row = conn.execute(
            sa.select(
                u.c.username,
                u.c.kind,
                u.c.consortia,
                u.c.revoked_at,
                t.c.revoked_at.label("token_revoked"),
                t.c.created_at.label("issued_at"),
            )
            .select_from(t.join(u, t.c.user_id == u.c.id))
            .where(t.c.token_sha256 == digest)
        ).first()
        if row is None:
            audit.record(conn, "unknown", "login.token.refused", digest[:12], source, reason="unknown_token")
            return None
        if row.revoked_at is not None or row.token_revoked is not None:
            reason = "revoked_user" if row.revoked_at is not None else "revoked_token"
            audit.record(conn, row.username, "login.token.refused", row.username, source, reason=reason)
            return None
        if row.issued_at + timedelta(days=settings.token_ttl_days) <= store.now():
            audit.record(conn, row.username, "login.token.refused", row.username, source, reason="expired_token")
            return None
        audit.record(conn, row.username, "login.token", row.username, source)
    return Principal(row.username, row.kind, tuple(row.consortia))


def revoke_token(settings: Settings, token: str, *, actor: str | None = None, source: str = audit.LOCAL) -> None:
    """Revoke one token (its holder stays active)."""
    digest = passwords.token_digest(token)
    with store.engine(settings).begin() as conn:
        row = conn.execute(
            sa.select(store.tokens.c.id, store.users.c.username)
            .select_from(store.tokens.join(store.users))
            .where(store.tokens.c.token_sha256 == digest, store.tokens.c.revoked_at.is_(None))
        ).first()
        if row is None:
            raise IdentityError("no such active token")
        conn.execute(sa.update(store.tokens).where(store.tokens.c.id == row.id).values(revoked_at=store.now()))
        audit.record(conn, actor or audit.local_actor(), "token.revoke", row.username, source)


def reset_password(settings: Settings, username: str, *, actor: str | None = None, source: str = audit.LOCAL) -> str:
    """A fresh password for an active user, returned once (the old one stops working at once)."""
    password = passwords.new_password()
    password_hash = passwords.hash_password(password)
    with store.engine(settings).begin() as conn:
        user_id = _active_user_id(conn, username)
        conn.execute(sa.update(store.users).where(store.users.c.id == user_id).values(password_hash=password_hash))
        audit.record(conn, actor or audit.local_actor(), "user.password_reset", username, source)
    return password
