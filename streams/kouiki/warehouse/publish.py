"""Publish warehouse.duckdb as serving.duckdb by atomic rename, so readers (Superset, the quality
checks) never block a build nor see a half-built file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kouiki.config import Settings
from kouiki.warehouse.dbt import BuildError


def publish(settings: Settings) -> Path:
    """Copy the warehouse next to the serving file, fsync it, and rename it over the serving file."""
    source, target = settings.warehouse_path, settings.serving_path
    if not source.exists():
        raise BuildError(f"nothing to publish: {source} does not exist; run `kouiki build` first")
    if Path(f"{source}.wal").exists():
        raise BuildError(f"{source}.wal exists: a writer is still open or crashed; not publishing")
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return target
