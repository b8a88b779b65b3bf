"""Every dashboard opens in headless Chromium, as Cabinet Office staff see it, and every chart renders
without an error. Screenshots go to <KOUIKI_TEST_OUTPUT or test-output>/screenshots/ for review."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kouiki.config import Settings
from kouiki.services.superset import bundle, security
from tests.support.platform import OUTPUT, free_port, settings_for
from tests.support.superset_stack import build_and_publish, running_superset, write_sample_lake

pytestmark = pytest.mark.browser
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
ERROR_SELECTORS = ['[role="alert"]', ".ant-alert-error", ".alert-danger", '[data-test="error-tooltip"]']
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
CABINET_USER, CABINET_PASSWORD = "test_cabinet_browser", "kouiki-test-cabinet"


def dashboards() -> list[dict[str, Any]]:
    paths = sorted((bundle.assets_dir() / "dashboards").glob("*.yaml"))
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths]


def chart_count(dashboard: dict[str, Any]) -> int:
    return sum(1 for n in dashboard["position"].values() if isinstance(n, dict) and n.get("type") == "CHART")


@pytest.fixture(scope="module")
def superset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = settings_for(tmp_path_factory.mktemp("browser") / "data", "127.0.0.1:1")
    write_sample_lake(settings)
    build_and_publish(settings)
    with running_superset(settings, free_port()) as admin:
        security.ensure_user(admin, CABINET_USER, CABINET_PASSWORD, ["Gamma", security.CABINET_ROLE])
        os.environ["KOUIKI_BROWSER_BASE_URL"] = admin.url
        yield settings
    os.environ.pop("KOUIKI_BROWSER_BASE_URL", None)


@pytest.fixture(scope="module")
def page(superset: Settings) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    base = os.environ["KOUIKI_BROWSER_BASE_URL"]
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="kouiki-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1000},
            locale="ja-JP",
        )
        page = context.new_page()
        page.goto(f"{base}/login/")
        page.fill("input#username, input[name=username]", CABINET_USER)
        page.fill("input#password, input[name=password]", CABINET_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)
        yield page
        context.close()


@pytest.mark.parametrize("dashboard", dashboards(), ids=lambda d: d["slug"])
def test_dashboard_renders_every_chart(page: Any, dashboard: dict[str, Any]) -> None:
    base = os.environ["KOUIKI_BROWSER_BASE_URL"]
    page.goto(f"{base}/superset/dashboard/{dashboard['slug']}/")
    page.wait_for_selector(".dashboard-component-chart-holder", timeout=60_000)
    expected = chart_count(dashboard)
    page.wait_for_function(ALL_CHARTS_SETTLED, arg=expected, timeout=90_000, polling=250)
    page.wait_for_timeout(500)  # let the last animations finish before the screenshot
    shots = Path(os.environ.get("KOUIKI_TEST_OUTPUT", OUTPUT)) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{dashboard['slug']}.png"), full_page=True)

    assert page.locator(".dashboard-component-chart-holder").count() == expected
    errors = {sel: page.locator(sel).count() for sel in ERROR_SELECTORS}
    assert not any(errors.values()), f"{dashboard['dashboard_title']}: {errors}"
    assert dashboard["dashboard_title"] in page.content()
    for holder in page.locator(".dashboard-component-chart-holder").all():
        assert "データがありません" not in holder.inner_text() and "No results" not in holder.inner_text()
