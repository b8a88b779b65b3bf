"""The gateway's own tables, in the identity store's database: what each submission was and what
became of each of its documents when it was answered (the later states are derived, see ``status``).

Gateway-owned (identity never imports the gateway), created on first use next to identity's tables.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kouiki.config import Settings
from kouiki.identity import store

metadata = sa.MetaData()

submissions = sa.Table(
    "gateway_submissions",
    metadata,
    sa.Column("submission_id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("submitted_at", store.UtcDateTime, nullable=False, index=True),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("body_bytes", sa.Integer, nullable=False),
    sa.Column("documents", sa.Integer, nullable=False),
    sa.Column("sent", sa.Integer, nullable=False),
    sa.Column("consortia", sa.JSON, nullable=False),  # the consortium codes its documents name
)

documents = sa.Table(
    "gateway_documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "submission_id", sa.String(36), sa.ForeignKey("gateway_submissions.submission_id"), nullable=False, index=True
    ),
    sa.Column("record", sa.Integer, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16)),
    sa.Column("consortium_code", sa.String(64), index=True),  # the portal's history: by consortium
    sa.Column("event_id", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),  # sent | rejected
    sa.Column("errors", sa.JSON, nullable=False),  # [path, message, message_ja, location (later rows)]
    sa.Column("topic", sa.String(200)),
    sa.Column("epoch", sa.String(64)),
    sa.Column("partition", sa.Integer),
    sa.Column("offset", sa.BigInteger),
    sa.Column("project_code", sa.String(64)),  # added after the first release: nullable, added at startup
    sa.Column("period", sa.String(16)),
)

_created: set[tuple[str, int]] = set()
_lock = threading.Lock()


def engine(settings: Settings, tables: sa.MetaData = metadata) -> Engine:
    """The identity store's engine, with ``tables`` (the gateway's by default, the portal's sessions)
    created, or brought up to date, once per process."""
    found = store.engine(settings)
    key = (store.url(settings), id(tables))
    with _lock:
        if key not in _created:
            tables.create_all(found)
            add_missing_columns(found, tables)
            _created.add(key)
    return found


def add_missing_columns(engine_: Engine, tables: sa.MetaData) -> list[str]:
    """Add the nullable columns and the indexes a table of an older release lacks (idempotent); the
    columns added."""
    added = []
    inspector = sa.inspect(engine_)
    with engine_.begin() as conn:
        for table in tables.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present and column.nullable:
                    kind = column.type.compile(dialect=engine_.dialect)
                    name = engine_.dialect.identifier_preparer.quote(column.name)
                    conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))  # noqa: S608
                    added.append(f"{table.name}.{column.name}")
            for index in table.indexes:
                index.create(conn, checkfirst=True)
    return added
