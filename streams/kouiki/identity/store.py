"""The identity store: five tables in SQLite under the data directory, or PostgreSQL when
``KOUIKI_IDENTITY_DB_URL`` names one (SQLAlchemy Core).

``users`` (passwords as scrypt hashes, an optional e-mail address for notice digests), ``tokens``
(SHA-256 digests only), ``keys`` (signing secrets encrypted with the platform key), ``audit``
(append-only) and ``notice_digests`` (the daily notice e-mails sent, one per consortium and day).
None of it is usable without the platform key or the people's own passwords and tokens.

Tables are created with ``create_all``; a column added after a store was first created is added by
``_add_missing_columns`` when the engine is made (``create_all`` never alters an existing table).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine

from kouiki.config import Settings

metadata = sa.MetaData()


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps none of the time zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("consortia", sa.JSON, nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("email", sa.String(254)),  # where notice digests go; added to older stores on first use
    sa.CheckConstraint("kind in ('operator', 'cabinet', 'secretariat')", name="users_kind"),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
)

keys = sa.Table(
    "keys",
    metadata,
    sa.Column("key_id", sa.String(100), primary_key=True),
    sa.Column("scope", sa.String(64), nullable=False, index=True),  # a consortium code or "operator"
    sa.Column("secret_encrypted", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("purpose", sa.String(64)),  # "platform" for the platform's own operator key
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
)

notice_digests = sa.Table(
    "notice_digests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("consortium_code", sa.String(64), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("notices", sa.Integer, nullable=False),
    # One digest per consortium and day: a second run, or a concurrent one, inserts nothing.
    sa.UniqueConstraint("consortium_code", "day", name="notice_digests_one_a_day"),
)

# Columns added after the first release, by table: a store created by an earlier version lacks them.
ADDED_COLUMNS = {"users": ("email",)}

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def url(settings: Settings) -> str:
    return settings.identity_db_url or f"sqlite:///{settings.identity_db_path}"


def engine(settings: Settings) -> Engine:
    """One engine per store and process, its tables created on first use."""
    key = url(settings)
    with _lock:
        found = _engines.get(key)
        if found is not None:
            return found
        options: dict[str, Any] = {}
        if not settings.identity_db_url:
            folder = settings.identity_db_path.parent
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
            options["connect_args"] = {"timeout": 30}
        created = sa.create_engine(key, **options)
        if created.dialect.name == "sqlite":
            sa.event.listen(created, "connect", _sqlite_pragmas)
        metadata.create_all(created)
        _add_missing_columns(created)
        if not settings.identity_db_url:
            settings.identity_db_path.chmod(0o600)
        _engines[key] = created
        return created


def _add_missing_columns(created: Engine) -> None:
    """Add the columns of ``ADDED_COLUMNS`` a store from an earlier version lacks (nullable, so no
    default is needed). Idempotent; a concurrent process adding the same column first is fine."""
    for table_name, names in ADDED_COLUMNS.items():
        table = metadata.tables[table_name]
        present = {c["name"] for c in sa.inspect(created).get_columns(table_name)}
        for name in names:
            if name in present:
                continue
            column_type = table.c[name].type.compile(dialect=created.dialect)
            try:
                with created.begin() as conn:
                    conn.execute(sa.text(f"ALTER TABLE {table_name} ADD COLUMN {name} {column_type}"))
            except (sa.exc.OperationalError, sa.exc.ProgrammingError):
                if name not in {c["name"] for c in sa.inspect(created).get_columns(table_name)}:
                    raise


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")  # the lander reads while the CLI writes
    cursor.close()


def dispose(settings: Settings) -> None:
    """Close this process's connections to the store (tests that drop a database)."""
    with _lock:
        found = _engines.pop(url(settings), None)
    if found is not None:
        found.dispose()


def now() -> datetime:
    return datetime.now(UTC)
