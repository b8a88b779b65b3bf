"""``dbt source freshness`` over the raw lake, run every morning by the kouiki_quality DAG.

The lake sources declare ``loaded_at_field: _ingested_at`` with ``warn_after`` / ``error_after``
(dbt_project/models/staging/kafka_lake/_kafka_lake__sources.yml). A source past either threshold is
reported (logged, and returned to Airflow) but fails nothing: registrations can rightly be quiet for
months, and the same DAG's serving check alerts on a lake that stopped receiving data. Only a check
that could not run (dbt's "runtime error", no results) raises. It is not run before each transform:
that one has just landed new data, and a dbt start there costs seconds of every report's way to the
dashboards.

The command runs the project's on-run-start hook, which (re)creates the lake views inside
warehouse.duckdb, so it is a warehouse writer like ``dbt build`` and shares its pool.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from kouiki.config import Settings
from kouiki.warehouse.dbt import dbt

log = logging.getLogger(__name__)

STALE = ("warn", "error")  # statuses dbt gives a source past warn_after / error_after
# dbt reports a source with no rows at all as loaded at 0001-01-01.
EMPTY_SOURCE_AGE_S = 10 * 365 * 24 * 3600.0


class FreshnessError(RuntimeError):
    """dbt could not check the freshness of the lake sources."""


@dataclass(frozen=True)
class SourceFreshness:
    source: str  # e.g. "kafka_lake.reports_v1"
    status: str  # pass | warn | error | runtime error
    age_seconds: float | None  # None when nothing has landed yet

    def describe(self) -> str:
        if self.age_seconds is None:
            return f"{self.source}: {self.status} (nothing landed yet)"
        return f"{self.source}: {self.status} (newest row {self.age_seconds / 3600:.1f} h old)"


def sources_json(settings: Settings) -> Path:
    """Where dbt writes the freshness results (DBT_TARGET_PATH set by kouiki.warehouse.dbt_env)."""
    return settings.data_dir / "dbt" / "target" / "sources.json"


def parse_results(document: dict[str, object]) -> list[SourceFreshness]:
    """The per-source outcome from dbt's sources.json artifact. Pure: no I/O."""
    results = document.get("results")
    if not isinstance(results, list):
        return []
    parsed = []
    for result in results:
        unique_id = str(result.get("unique_id", ""))
        age = result.get("max_loaded_at_time_ago_in_s")
        age_s = float(age) if isinstance(age, int | float) and age < EMPTY_SOURCE_AGE_S else None
        parsed.append(SourceFreshness(".".join(unique_id.split(".")[-2:]), str(result.get("status")), age_s))
    return parsed


def check_could_run(returncode: int, results: list[SourceFreshness]) -> bool:
    """dbt exits 1 both for a stale source and for a failed check; only the latter is an error here."""
    if returncode == 0:
        return True
    return bool(results) and all(r.status == "pass" or r.status in STALE for r in results)


def source_freshness(settings: Settings) -> list[SourceFreshness]:
    """Run ``dbt source freshness``; log stale sources, raise FreshnessError when dbt could not check."""
    artifact = sources_json(settings)
    artifact.unlink(missing_ok=True)  # never judge by a previous run's results
    proc = dbt(settings, "source", "freshness")
    results = parse_results(json.loads(artifact.read_text())) if artifact.exists() else []
    if not check_could_run(proc.returncode, results):
        raise FreshnessError(
            f"dbt source freshness could not run (exit {proc.returncode}):\n"
            + "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        )
    for result in results:
        if result.status != "pass":
            log.warning("stale lake source (reported, not blocking the build): %s", result.describe())
    return results


def summary(results: list[SourceFreshness]) -> str:
    return "; ".join(r.describe() for r in results) or "no lake sources"
