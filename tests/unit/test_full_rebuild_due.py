"""When ``kouiki build`` rebuilds whole instead of running incrementally."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kouiki.warehouse.dbt import full_rebuild_due
from tests.support.platform import settings_for


def test_full_rebuild_when_none_recorded_or_the_last_is_too_old(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "127.0.0.1:9", full_rebuild_hours=24.0)
    assert full_rebuild_due(settings), "no warehouse yet"
    settings.warehouse_path.write_bytes(b"")
    assert full_rebuild_due(settings), "a warehouse without a recorded full rebuild (e.g. made by dbt source freshness)"
    marker = settings.data_dir / "dbt" / "full-rebuild-done"
    marker.parent.mkdir(parents=True)
    marker.touch()
    assert not full_rebuild_due(settings)
    a_day_ago = time.time() - 25 * 3600
    os.utime(marker, (a_day_ago, a_day_ago))
    assert full_rebuild_due(settings)
    assert not full_rebuild_due(settings_for(tmp_path, "127.0.0.1:9", full_rebuild_hours=0.0)), "0: only by hand"
