"""Reading the committed Superset bundle and the dbt exposures, for the bundle and Superset tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kouiki.services.superset.bundle import assets_dir

ASSETS = assets_dir()
DBT_PROJECT = ASSETS.parent / "dbt_project"
SQL_TABLE = re.compile(r"\b(?:from|join)\s+(\w+)\.(\w+)", re.IGNORECASE)


def load(kind: str) -> dict[Path, dict[str, Any]]:
    return {p: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ASSETS / kind).rglob("*.yaml"))}


def uuids(kind: str) -> set[str]:
    return {str(c["uuid"]) for c in load(kind).values()}


def dashboard_chart_uuids(dashboard: dict[str, Any]) -> set[str]:
    return {
        str(n["meta"]["uuid"])
        for n in dashboard["position"].values()
        if isinstance(n, dict) and n.get("type") == "CHART"
    }


def dataset_tables() -> set[tuple[str, str]]:
    """schema.table of every physical dataset and every table a virtual dataset's SQL reads."""
    tables = set()
    for config in load("datasets").values():
        if config.get("sql"):
            tables |= {(s.lower(), t.lower()) for s, t in SQL_TABLE.findall(config["sql"])}
        else:
            tables.add((config["schema"], config["table_name"]))
    return tables


def exposure_dashboards() -> dict[str, str]:
    """Exposure name → dashboard slug from its url."""
    exposures = yaml.safe_load((DBT_PROJECT / "models/reports/_reports__exposures.yml").read_text())["exposures"]
    return {e["name"]: e["url"].rstrip("/").rsplit("/", 1)[-1] for e in exposures if e["type"] == "dashboard"}
