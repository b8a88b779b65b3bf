"""``datapackage.json``: the snapshot as a Frictionless Tabular Data Package.

A Tabular Data Resource is a CSV file (or inline JSON), so each table is one resource whose
``path`` is its CSV; its Parquet copy, with the same rows and schema, is named under
``alternates``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from kouiki.open_data.dbt_docs import ModelDocs, title_of
from kouiki.open_data.export import CSV_DIALECT
from kouiki.open_data.manifest import sha256
from kouiki.open_data.quarter import Quarter

DESCRIPTOR = "datapackage.json"
# The Government of Japan Standard Terms of Use (政府標準利用規約 2.0) are compatible with CC BY 4.0.
LICENSES = [
    {
        "name": "CC-BY-4.0",
        "path": "https://creativecommons.org/licenses/by/4.0/",
        "title": "Creative Commons Attribution 4.0",
    }
]


def resource(
    root: Path, name: str, csv: Path, parquet: Path, docs: ModelDocs, schema: dict[str, Any]
) -> dict[str, Any]:
    """One table's resource; ``csv`` and ``parquet`` are relative to ``root``."""
    described: dict[str, Any] = {"profile": "tabular-data-resource", "name": name, "path": csv.as_posix()}
    if title := title_of(docs.description):
        described["title"] = title
    if docs.description:
        described["description"] = docs.description
    described |= {
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8-sig",  # UTF-8 with a byte-order mark, which Excel needs to read Japanese
        **_file(root / csv),
        "dialect": CSV_DIALECT,
        "schema": schema,
        "alternates": [
            {
                "path": parquet.as_posix(),
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                **_file(root / parquet),
            }
        ],
    }
    return described


def package(quarter: Quarter, resources: list[dict[str, Any]], created: datetime) -> dict[str, Any]:
    return {
        "profile": "tabular-data-package",
        "name": f"kouiki-open-data-{quarter.period.lower()}",
        "title": f"広域リージョン連携 オープンデータ {quarter.period} / Kouiki open data {quarter.period}",
        "description": _description(quarter),
        "created": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "licenses": LICENSES,
        "resources": resources,
    }


def _file(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "hash": f"sha256:{sha256(path)}"}


def _description(quarter: Quarter) -> str:
    return (
        f"地方創生2.0 広域リージョン連携の事業・投資・KPIの公開データ。{quarter.period} "
        f"(報告期限 {quarter.due_date}) までの期間の値で、年度単位の表は作成時点の集計です。"
        "各表は CSV (UTF-8 BOM付き) と Parquet の2形式で、内容は同じです。"
        "CC BY 4.0 で提供します (政府標準利用規約 第2.0版は CC BY 4.0 と互換です)。"
        "利用の際は出典を記載してください。\n\n"
        "Open data of the projects, investment and KPIs of the wide-area regional collaborations of "
        f"Regional Revitalization 2.0: periods up to {quarter.period} (reports due {quarter.due_date}); "
        "tables by fiscal year hold the year as built when the snapshot was written. Each table comes "
        "as CSV (UTF-8 with BOM) and Parquet with the same rows; yen amounts are integers, timestamps "
        "ISO 8601 in UTC. Licensed CC BY 4.0; the Government of Japan Standard Terms of Use "
        "(Version 2.0) are compatible with CC BY 4.0. Please credit the source."
    )
