"""Headless Debian Chromium driven by Playwright, as the browser tests use it (no browser download)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

# Superset's wait: holders present, no loading spinner, each holder drawn (svg/canvas/table) or errored.
ALL_CHARTS_SETTLED = """(expected) => {
    const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')];
    if (holders.length < expected) return false;
    if (document.querySelector('.dashboard-component-chart-holder .loading, [data-test="loading-indicator"]'))
        return false;
    return holders.every(h => h.querySelector(
        '.chart-container svg, .chart-container canvas, .chart-container table, .big_number, ' +
        '.superset-legacy-chart-big-number, [role="alert"], .ant-alert-error, [data-test="error-tooltip"]'));
}"""


@contextmanager
def chromium(width: int, height: int, **options: Any) -> Iterator[Any]:
    """A Japanese-locale browser context with a profile of its own, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="kouiki-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
            locale="ja-JP",
            **options,
        )
        try:
            yield context
        finally:
            context.close()
