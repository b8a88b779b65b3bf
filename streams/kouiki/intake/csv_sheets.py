"""Quarterly reports from a CSV sheet, for secretariats who work in Excel.

One row per funding line or KPI value; the rows of one project, period and version make one
report. Columns (header row required, UTF-8, Excel's "CSV UTF-8" BOM accepted):

    consortium_code, project_code, period, version,
    status, percent_complete, summary_ja,       progress: on the group's first row
    line_type,                                  funding | kpi
    source_type, stage, amount_jpy,             funding lines (amount in whole yen, digits only)
    kpi_code, value,                            KPI values
    pref_code                                   optional, both kinds

The event_id is derived from the rows' content, so submitting the same sheet twice is a no-op.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kouiki.intake.files import Record

COLUMNS = (
    "consortium_code",
    "project_code",
    "period",
    "version",
    "status",
    "percent_complete",
    "summary_ja",
    "line_type",
    "source_type",
    "stage",
    "amount_jpy",
    "kpi_code",
    "value",
    "pref_code",
)
REQUIRED = ("consortium_code", "project_code", "period", "version", "line_type")
NAMESPACE = uuid.UUID("6b6f7569-6b69-4000-8000-00000000c5f0")
JST = timezone(timedelta(hours=9))


class CsvError(ValueError):
    def __init__(self, line: int, column: str, en: str, ja: str) -> None:
        super().__init__(f"line {line}, column {column}: {en}")
        self.line, self.column, self.en, self.ja = line, column, en, ja


def _number(text: str, line: int, column: str, integer: bool) -> int | float:
    cleaned = text.strip()
    try:
        return int(cleaned) if integer else float(cleaned)
    except ValueError:
        en, ja = (
            ("a whole number of yen (digits only)", "円単位の整数（数字のみ）") if integer else ("a number", "数値")
        )
        raise CsvError(line, column, f"{cleaned!r} is not {en}", f"{cleaned!r} は{ja}ではありません") from None


def _line_item(row: dict[str, str], line: int) -> tuple[str, dict[str, Any]]:
    kind = row["line_type"].strip()
    item: dict[str, Any]
    if kind == "funding":
        item = {
            "source_type": row["source_type"].strip(),
            "stage": row["stage"].strip(),
            "amount_jpy": _number(row["amount_jpy"], line, "amount_jpy", integer=True),
        }
    elif kind == "kpi":
        item = {"kpi_code": row["kpi_code"].strip(), "value": _number(row["value"], line, "value", integer=False)}
    else:
        raise CsvError(
            line, "line_type", f"{kind!r} is not funding or kpi", f"{kind!r} は funding か kpi にしてください"
        )
    if row.get("pref_code", "").strip():
        item["pref_code"] = row["pref_code"].strip()
    return ("funding" if kind == "funding" else "kpis"), item


def _report(group: list[tuple[int, dict[str, str]]], submitted_by: str) -> dict[str, Any]:
    first_line, first = group[0]
    progress: dict[str, Any] = {
        "status": first["status"].strip(),
        "percent_complete": _number(first["percent_complete"] or "", first_line, "percent_complete", integer=False),
    }
    if first.get("summary_ja", "").strip():
        progress["summary_ja"] = first["summary_ja"].strip()
    doc: dict[str, Any] = {
        "consortium_code": first["consortium_code"].strip(),
        "project_code": first["project_code"].strip(),
        "period": first["period"].strip(),
        "version": int(_number(first["version"], first_line, "version", integer=True)),
        "progress": progress,
        "funding": [],
        "kpis": [],
    }
    for line, row in group:
        section, item = _line_item(row, line)
        doc[section].append(item)
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    envelope = {
        "schema_version": "1.0",
        "event_id": str(uuid.uuid5(NAMESPACE, digest)),
        "submitted_at": datetime.now(JST).replace(microsecond=0).isoformat(),
        "submitted_by": submitted_by,
    }
    return envelope | doc


def read_csv(path: Path, submitted_by: str) -> Iterator[Record]:
    """One Record per report; a malformed row becomes a located error record."""
    return records_of(path, path.read_bytes(), submitted_by)


def records_of(path: Path, raw: bytes, submitted_by: str) -> Iterator[Record]:
    """:func:`read_csv` of bytes already in memory (a request body), named ``path`` in locations."""
    try:
        text: str | None = raw.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        text = None
    if text is None:
        yield Record(
            path,
            1,
            1,
            None,
            'not UTF-8; in Excel save as "CSV UTF-8"',
            "UTF-8 ではありません。Excel では「CSV UTF-8」形式で保存してください",
        )
        return
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        names = ", ".join(missing)
        yield Record(path, 1, 1, None, f"missing columns: {names}", f"列がありません: {names}")
        return
    groups: dict[tuple[str, str, str], list[tuple[int, dict[str, str]]]] = {}
    for line, row in enumerate(reader, start=2):
        key = (row["project_code"].strip(), row["period"].strip(), row["version"].strip())
        groups.setdefault(key, []).append((line, {k: (v or "") for k, v in row.items() if k}))
    for index, group in enumerate(groups.values(), start=1):
        try:
            doc = _report(group, submitted_by)
        except CsvError as exc:
            yield Record(path, index, exc.line, None, f"column {exc.column}: {exc.en}", f"列 {exc.column}: {exc.ja}")
            continue
        yield Record(path, index, group[0][0], json.dumps(doc, ensure_ascii=False).encode("utf-8"))
