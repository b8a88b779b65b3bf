"""Notices on the national sample (about 80,000 reports in 21 lake files): fast enough for a portal
page once each lake file has been summarised, in this process or by an earlier one."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from kouiki.config import Settings
from kouiki.notices import lake_index
from kouiki.notices.listing import all_notices, notices_for
from kouiki.sample import national

pytestmark = pytest.mark.integration


def test_notices_on_the_national_sample(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    national.write_to_lake(settings.raw_dir, national.generate().documents())
    today = date(2030, 1, 25)  # mid-simulation: reports of FY2029Q3 are due on 2030-01-31
    everything = all_notices(settings, today)  # reads and summarises every lake file once
    consortia = sorted({n.consortium_code for n in everything if n.consortium_code})
    assert everything and len(consortia) > 10

    def slowest_page() -> float:
        worst = 0.0
        for code in consortia[:20]:
            start = time.perf_counter()
            notices_for(settings, [code], today)
            worst = max(worst, time.perf_counter() - start)
        return worst

    assert slowest_page() < 0.1
    lake_index.forget()  # a new process: the stored summaries, not the Parquet files
    start = time.perf_counter()
    assert all_notices(settings, today) == everything
    assert time.perf_counter() - start < 1.0
    assert slowest_page() < 0.1
