"""A Frictionless Table Schema for a table of the serving file: each column's type from DuckDB, its
title and description from the dbt docs, and the primary key from the dbt tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kouiki.open_data.dbt_docs import ModelDocs, title_of
from kouiki.open_data.errors import OpenDataError

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
_TYPES = {
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "datetime",
    "TIMESTAMP WITH TIME ZONE": "datetime",
    "DOUBLE": "number",
    "FLOAT": "number",
}


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str  # as information_schema.columns writes it: BIGINT, DECIMAL(18,2), …

    @property
    def field_type(self) -> str:
        """The Table Schema type; OpenDataError for a type the CSV cannot carry faithfully (lists, structs)."""
        if self.duckdb_type in _INTEGERS:
            return "integer"
        if self.duckdb_type.startswith("DECIMAL"):
            return "number"
        if self.duckdb_type in _TYPES:
            return _TYPES[self.duckdb_type]
        raise OpenDataError(
            f"列 {self.name} の型 {self.duckdb_type} は公開できません / column {self.name}: "
            f"type {self.duckdb_type} has no Table Schema type here; cast it in dbt"
        )


def table_schema(table: str, columns: list[Column], docs: ModelDocs) -> dict[str, Any]:
    """The schema of ``columns``; OpenDataError when a column has no description in the dbt docs."""
    undocumented = [c.name for c in columns if not docs.columns.get(c.name)]
    if undocumented:
        raise OpenDataError(
            f"{table} の列 {', '.join(undocumented)} に dbt の説明がありません / column(s) "
            f"{', '.join(undocumented)} of {table} have no description in the dbt YAML"
        )
    fields = []
    for column in columns:
        description = docs.columns[column.name]
        field: dict[str, Any] = {"name": column.name, "type": column.field_type}
        if title := title_of(description):
            field["title"] = title
        field["description"] = description
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if docs.primary_key in {c.name for c in columns}:
        schema["primaryKey"] = [docs.primary_key]
    return schema
