"""``kouiki open-data``: the open data snapshot of the latest quarter whose reports are due.

``<out>/<FYyyyyQn>/`` holds ``csv/<table>.csv``, ``parquet/<table>.parquet``, ``datapackage.json``
and, last, ``SHA256SUMS``. A snapshot is written into a temporary sibling directory and renamed
into place, so the quarter's name only ever shows a complete snapshot; once there it is never
written again (a later run says so and does nothing), and figures corrected afterwards appear in
the next quarter's snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kouiki.config import Settings
from kouiki.notices.notice import today
from kouiki.open_data import datapackage, dbt_docs
from kouiki.open_data.errors import OpenDataError
from kouiki.open_data.export import write_table
from kouiki.open_data.manifest import MANIFEST, write_manifest
from kouiki.open_data.public_tables import PUBLIC_TABLES, PublicTable, public_columns
from kouiki.open_data.quarter import Quarter, latest_due
from kouiki.open_data.table_schema import Column, table_schema
from kouiki.warehouse.dbt import project_dir

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Snapshot:
    period: str
    path: Path
    written: bool  # False: the quarter's snapshot was complete already and nothing was written
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows, when written

    def describe(self) -> str:
        if not self.written:
            return (
                f"open data {self.period}: 作成済みのため何もしません / already complete at {self.path} "
                "(snapshots are never overwritten); nothing written"
            )
        return (
            f"open data {self.period}: wrote {self.path}: {len(self.rows)} tables, "
            f"{sum(self.rows.values()):,} rows (CSV UTF-8 with BOM and Parquet, {datapackage.DESCRIPTOR}, {MANIFEST})"
        )


def write_snapshot(settings: Settings, out: Path | None = None, as_of: date | None = None) -> Snapshot:
    """Write the snapshot of the latest quarter due by ``as_of`` (default: today in Japan) under
    ``out`` (default: ``<data dir>/open_data``), unless it is there already."""
    import duckdb

    serving = settings.serving_path
    if not serving.exists():
        raise OpenDataError(
            f"公開用ファイルがまだありません。先に `kouiki build` を実行してください / no serving file yet "
            f"({serving}): run `kouiki build` first"
        )
    out = out if out is not None else settings.open_data_dir
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            quarter = latest_due(con, as_of or today())
            final = out / quarter.period
            if (final / MANIFEST).exists():
                return Snapshot(quarter.period, final, written=False)
            if final.exists():
                raise OpenDataError(
                    f"{final} は {MANIFEST} のない不完全なディレクトリです。確認して削除してください / {final} "
                    f"exists without {MANIFEST}: it is not a complete snapshot; inspect and remove it"
                )
            out.mkdir(parents=True, exist_ok=True)
            work = out / f".{quarter.period}.{uuid.uuid4().hex}.tmp"
            work.mkdir()
            try:
                rows = _write(con, settings, quarter, work)
                if not _rename(work, final):
                    return Snapshot(quarter.period, final, written=False)  # another run was first
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except duckdb.Error as exc:
        raise OpenDataError(f"公開用ファイルを読めません / cannot read {serving}: {_first_line(exc)}") from exc
    except OSError as exc:
        raise OpenDataError(f"スナップショットを作れません / cannot make the snapshot: {exc}") from exc
    return Snapshot(quarter.period, final, written=True, rows=rows)


def _write(con: duckdb.DuckDBPyConnection, settings: Settings, quarter: Quarter, work: Path) -> dict[str, int]:
    """Every public table, the descriptor, then the manifest, into ``work``; rows per table."""
    models = dbt_docs.read_models(project_dir(settings))
    rows: dict[str, int] = {}
    resources: list[dict[str, Any]] = []
    for table in PUBLIC_TABLES:
        found = _columns(con, table)
        if not found:
            if table.optional:
                continue
            raise OpenDataError(
                f"公開対象の表 {table.qualified} が公開用ファイルにありません / "
                f"the serving file has no {table.qualified}"
            )
        if table.name not in models:
            raise OpenDataError(
                f"{table.qualified} の dbt の説明がありません / no dbt YAML documents {table.qualified}"
            )
        names = public_columns(table, [c.name for c in found])
        columns = [c for c in found if c.name in names]
        schema = table_schema(table.qualified, columns, models[table.name])
        csv, parquet = Path("csv", f"{table.name}.csv"), Path("parquet", f"{table.name}.parquet")
        rows[table.name] = write_table(con, table, columns, quarter.row_filter(names), work / csv, work / parquet)
        resources.append(datapackage.resource(work, table.name, csv, parquet, models[table.name], schema))
    descriptor = datapackage.package(quarter, resources, datetime.now(UTC))
    (work / datapackage.DESCRIPTOR).write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", "utf-8")
    write_manifest(work)
    return rows


def _columns(con: duckdb.DuckDBPyConnection, table: PublicTable) -> list[Column]:
    found = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [table.schema, table.name],
    ).fetchall()
    return [Column(name, kind) for name, kind in found]


def _rename(work: Path, final: Path) -> bool:
    """Make ``work`` durable and rename it to ``final``; False when ``final`` appeared meanwhile."""
    for path in [*work.rglob("*"), work]:
        _fsync(path)
    try:
        os.rename(work, final)  # atomic; fails rather than replace a directory that is not empty
    except OSError:
        if (final / MANIFEST).exists():
            return False
        raise
    _fsync(final.parent)
    return True


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
