"""The committed Superset asset bundle (``superset_assets/``): reading it, and importing it with
the serving file's path filled in."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from kouiki.config import Settings, default_project_root
from kouiki.services.superset.process import SupersetError, log_tail, run_cli

SERVING_PLACEHOLDER = "{{SERVING_DUCKDB}}"
# import-directory exits 0 even when the import failed, so its output has to be read. Warnings are
# not failures: before the first publish there is no serving file, and Superset warns that it
# cannot inspect the database while importing datasets that will exist.
IMPORT_FAILURE = re.compile(r"An error occurred|\bError\b|:ERROR:|Traceback")


def assets_dir(project_root: Path | None = None) -> Path:
    return (project_root or default_project_root()) / "superset_assets"


def render_assets(target: Path, serving_path: Path, source: Path | None = None) -> Path:
    """Copy the committed bundle to ``target`` with the serving DuckDB path filled in."""
    if any(c in str(serving_path) for c in "?#"):
        raise SupersetError(f"serving path cannot be used in a database URI: {serving_path}")
    bundle = target / "bundle"
    shutil.copytree(source or assets_dir(), bundle)
    for path in (bundle / "databases").glob("*.yaml"):
        database = yaml.safe_load(path.read_text(encoding="utf-8"))
        uri = str(database["sqlalchemy_uri"])
        database["sqlalchemy_uri"] = uri.replace(SERVING_PLACEHOLDER, str(serving_path))
        path.write_text(yaml.safe_dump(database, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return bundle


def import_failures(output: str) -> list[str]:
    """The lines of ``superset import-directory`` output that report a failure."""
    return [line for line in output.splitlines() if ":WARNING:" not in line and IMPORT_FAILURE.search(line)]


def import_assets(settings: Settings) -> None:
    """Create or update the database, datasets, charts and dashboards from superset_assets/."""
    source = assets_dir(settings.project_root)
    with tempfile.TemporaryDirectory(prefix="kouiki-superset-assets-") as tmp:
        bundle = render_assets(Path(tmp), settings.serving_path, source)
        output = run_cli(settings, ["import-directory", "--overwrite", str(bundle)])
    if import_failures(output):
        raise SupersetError(f"importing {source} failed:\n{log_tail(output)}")


def bundle_datasets(source: Path | None = None) -> list[dict[str, Any]]:
    """uuid, table_name and column names of every committed dataset."""
    datasets = []
    for path in sorted(((source or assets_dir()) / "datasets").rglob("*.yaml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        datasets.append(
            {
                "uuid": str(config["uuid"]),
                "table_name": config["table_name"],
                "columns": [c["column_name"] for c in config.get("columns") or []],
            }
        )
    return datasets


def bundle_uuids(kind: str, source: Path | None = None) -> list[str]:
    """UUIDs of the committed assets of one kind ("charts", "datasets", ...)."""
    paths = sorted(((source or assets_dir()) / kind).rglob("*.yaml"))
    return [str(yaml.safe_load(p.read_text(encoding="utf-8"))["uuid"]) for p in paths]
