"""Every dashboard opens in headless Chromium, as Cabinet Office staff see it, and every chart renders
without an error. Screenshots go to <KOUIKI_TEST_OUTPUT or test-output>/screenshots/ for review."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kouiki.services.superset import api, bundle, security
from tests.support.browser import ALL_CHARTS_SETTLED, chromium
from tests.support.platform import OUTPUT

pytestmark = pytest.mark.browser
ERROR_SELECTORS = ['[role="alert"]', ".ant-alert-error", ".alert-danger", '[data-test="error-tooltip"]']

CABINET_USER, CABINET_PASSWORD = "test_cabinet_browser", "kouiki-test-cabinet"


def dashboards() -> list[dict[str, Any]]:
    paths = sorted((bundle.assets_dir() / "dashboards").glob("*.yaml"))
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths]


def chart_count(dashboard: dict[str, Any]) -> int:
    return sum(1 for n in dashboard["position"].values() if isinstance(n, dict) and n.get("type") == "CHART")


@pytest.fixture(scope="module")
def base_url(superset_admin: api.ApiClient) -> str:
    """The session's running Superset over the published sample warehouse (tests/conftest.py), with
    a Cabinet Office user to browse it."""
    security.ensure_user(superset_admin, CABINET_USER, CABINET_PASSWORD, ["Gamma", security.CABINET_ROLE])
    return superset_admin.url


def log_in(page: Any, base_url: str) -> None:
    """Superset's login form as staff fill it; done once the browser has left the login page (not
    once the welcome page's scripts have loaded, which a loaded CI machine can take minutes over)."""
    page.goto(f"{base_url}/login/")
    page.fill("input#username, input[name=username]", CABINET_USER)
    page.fill("input#password, input[name=password]", CABINET_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url, timeout=120_000, wait_until="commit")


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Any]:
    with chromium(1600, 1000) as context:
        page = context.new_page()
        log_in(page, base_url)
        yield page


@pytest.mark.parametrize("dashboard", dashboards(), ids=lambda d: d["slug"])
def test_dashboard_renders_every_chart(page: Any, base_url: str, dashboard: dict[str, Any]) -> None:
    url = f"{base_url}/superset/dashboard/{dashboard['slug']}/"
    page.goto(url)
    if "/login" in page.url:  # the session was not kept: log in again, as staff would, and say so
        print(f"[dashboards] {dashboard['slug']}: sent to the login page, logging in again")
        log_in(page, base_url)
        page.goto(url)
    if any(f.get("requiredFirst") for f in dashboard["metadata"]["native_filter_configuration"]):
        # a filter whose first value is applied before the charts load: Superset lays the charts
        # out, then again once that value is in the URL's filter state
        page.wait_for_url(lambda u: "native_filters_key=" in u, timeout=90_000)
    page.wait_for_selector(".dashboard-component-chart-holder", timeout=60_000)
    expected = chart_count(dashboard)
    page.wait_for_function(ALL_CHARTS_SETTLED, arg=expected, timeout=90_000, polling=250)
    page.wait_for_timeout(500)  # let the last animations finish before the screenshot
    page.wait_for_function(ALL_CHARTS_SETTLED, arg=expected, timeout=90_000, polling=250)  # still laid out
    shots = Path(os.environ.get("KOUIKI_TEST_OUTPUT", OUTPUT)) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{dashboard['slug']}.png"), full_page=True)

    assert page.locator(".dashboard-component-chart-holder").count() == expected
    errors = {sel: page.locator(sel).count() for sel in ERROR_SELECTORS}
    assert not any(errors.values()), f"{dashboard['dashboard_title']}: {errors}"
    assert dashboard["dashboard_title"] in page.content()
    for holder in page.locator(".dashboard-component-chart-holder").all():
        assert "データがありません" not in holder.inner_text() and "No results" not in holder.inner_text()


def test_a_project_code_in_the_kpi_table_opens_its_project_page(page: Any, base_url: str) -> None:
    """事業カルテ is reached by clicking a project: the link in the KPI table opens the project page
    with that project selected, and its registration and report-version tables show only it."""
    page.goto(f"{base_url}/superset/dashboard/kouiki-kpi/")
    if "/login" in page.url:
        log_in(page, base_url)
        page.goto(f"{base_url}/superset/dashboard/kouiki-kpi/")
    link = page.locator('.dashboard-component-chart-holder a[href*="/superset/dashboard/kouiki-project/"]').first
    link.wait_for(timeout=90_000)
    project = link.inner_text().strip()
    assert project.startswith("KR-"), project
    link.click()
    page.wait_for_url(lambda url: "kouiki-project" in url, timeout=60_000)
    expected = chart_count(next(d for d in dashboards() if d["slug"] == "kouiki-project"))
    page.wait_for_function(ALL_CHARTS_SETTLED, arg=expected, timeout=90_000, polling=250)
    page.wait_for_timeout(500)
    shots = Path(os.environ.get("KOUIKI_TEST_OUTPUT", OUTPUT)) / "screenshots"
    page.screenshot(path=str(shots / f"kouiki-project-{project}.png"), full_page=True)
    registration = page.locator(".dashboard-component-chart-holder").first.inner_text()  # 登録情報
    assert project in registration, registration
    other_codes = {code for code in re.findall(r"KR-[A-Z0-9]+-\d{2}-P\d{2}", page.content()) if code != project}
    assert not other_codes, f"the project page shows other projects too: {sorted(other_codes)[:5]}"
