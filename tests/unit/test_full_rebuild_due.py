"""When ``kouiki build`` rebuilds whole instead of running incrementally."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from kouiki.warehouse.dbt import full_rebuild_due, project_fingerprint
from tests.support.platform import settings_for


def test_full_rebuild_when_none_recorded_or_the_last_is_too_old(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "127.0.0.1:9", full_rebuild_hours=24.0)
    assert full_rebuild_due(settings), "no warehouse yet"
    settings.warehouse_path.write_bytes(b"")
    assert full_rebuild_due(settings), "a warehouse without a recorded full rebuild (e.g. made by dbt source freshness)"
    marker = settings.data_dir / "dbt" / "full-rebuild-done"
    marker.parent.mkdir(parents=True)
    marker.touch()
    assert full_rebuild_due(settings), "a marker without the project's fingerprint (from before fingerprints)"
    marker.write_text(project_fingerprint(settings), encoding="utf-8")
    assert not full_rebuild_due(settings)
    a_day_ago = time.time() - 25 * 3600
    os.utime(marker, (a_day_ago, a_day_ago))
    assert full_rebuild_due(settings)
    assert not full_rebuild_due(settings_for(tmp_path, "127.0.0.1:9", full_rebuild_hours=0.0)), "0: only by hand"


def test_full_rebuild_after_the_dbt_project_changed(tmp_path: Path) -> None:
    """An upgrade that changes a model's columns cannot run incrementally (on_schema_change=fail):
    the next build is full."""
    checkout = tmp_path / "checkout"
    shutil.copytree(
        Path(__file__).parents[2] / "dbt_project",
        checkout / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    settings = settings_for(tmp_path / "data", "127.0.0.1:9", full_rebuild_hours=24.0, project_dir=checkout)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    settings.warehouse_path.write_bytes(b"")
    marker = settings.data_dir / "dbt" / "full-rebuild-done"
    marker.parent.mkdir(parents=True)
    marker.write_text(project_fingerprint(settings), encoding="utf-8")
    assert not full_rebuild_due(settings)
    model = next((checkout / "dbt_project" / "models").rglob("*.sql"))
    model.write_text(model.read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
    assert full_rebuild_due(settings)
