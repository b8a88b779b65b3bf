"""One table out of the serving file, twice with the same rows in the same order: CSV for people
(UTF-8 with a BOM, so Excel opens it in Japanese) and Parquet for programs.

DuckDB writes both. In the CSV, integers stay integers (yen are BIGINT: never ``1.0e9``), dates are
ISO 8601 and timestamps ISO 8601 in UTC with a ``Z``; an empty cell is null, an empty string ``""``.
"""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from kouiki.open_data.public_tables import PublicTable
from kouiki.open_data.table_schema import Column

if TYPE_CHECKING:
    import duckdb

CSV_DIALECT = {"delimiter": ",", "lineTerminator": "\n", "quoteChar": '"', "doubleQuote": True, "header": True}


def write_table(
    con: duckdb.DuckDBPyConnection,
    table: PublicTable,
    columns: list[Column],
    where: str,
    csv_path: Path,
    parquet_path: Path,
) -> int:
    """Write the rows of ``table`` that ``where`` keeps as CSV and Parquet; the number of rows."""
    source = f"{_identifier(table.schema)}.{_identifier(table.name)} {where}"
    names = ", ".join(_identifier(c.name) for c in columns)
    # identifiers are quoted; the filter is built from the serving file's own calendar
    rows = _copy(con, f"select {names} from {source} order by all", parquet_path, "format parquet")  # noqa: S608
    as_text = ", ".join(_csv_value(c) for c in columns)
    part = csv_path.with_name(f"{csv_path.name}.part")
    _copy(con, f"select {as_text} from {source} order by all", part, "format csv, header true")  # noqa: S608
    with csv_path.open("wb") as out, part.open("rb") as written:  # DuckDB writes no BOM: prepend it
        out.write(codecs.BOM_UTF8)
        shutil.copyfileobj(written, out)
    part.unlink()
    return rows


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path, options: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    counted = con.execute(f"copy ({query}) to {_literal(str(path))} ({options})").fetchone()
    return int(counted[0]) if counted else 0


def _csv_value(column: Column) -> str:
    """The column as the CSV shows it: timestamps as ISO 8601 (UTC, whatever the session's time
    zone), the rest as DuckDB writes them."""
    name = _identifier(column.name)
    if column.duckdb_type == "TIMESTAMP WITH TIME ZONE":
        return f"strftime(timezone('UTC', {name}), '%Y-%m-%dT%H:%M:%S.%fZ') as {name}"
    if column.duckdb_type == "TIMESTAMP":
        return f"strftime({name}, '%Y-%m-%dT%H:%M:%S.%f') as {name}"
    return name


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
