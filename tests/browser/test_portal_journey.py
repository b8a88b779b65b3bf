"""A secretariat's quarter, in headless Chromium against the real platform (broker, Airflow, gateway):
log in, download the pre-filled template, fill it (openpyxl, as Excel would), upload a version with
three mistakes and see each located to its cell, fix them, confirm, let the pipeline run, and follow
the submission to 反映済. A secretariat of another consortium sees none of it. Screenshots of every
page go to <KOUIKI_TEST_OUTPUT or test-output>/screenshots/portal-*.png.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import httpx
import openpyxl
import pytest

from kouiki.config import Settings
from kouiki.contract import periods
from kouiki.identity import users
from kouiki.services import portal
from kouiki.services.airflow_api import AirflowClient
from tests.support.browser import chromium
from tests.support.gateway import CONSORTIUM_A, CONSORTIUM_B, bearer, jsonl, sample
from tests.support.platform import OUTPUT, free_port
from tests.support.signing import settings_for
from tests.support.stack import running_platform

pytestmark = [pytest.mark.browser, pytest.mark.integration]
PERIOD = periods.quarter_of(date.today())
SHOTS = Path(os.environ.get("KOUIKI_TEST_OUTPUT", OUTPUT)) / "screenshots"


@dataclass(frozen=True)
class Portal:
    settings: Settings
    url: str
    passwords: dict[str, str]
    projects: list[dict[str, Any]]  # consortium A's registered projects


def wait_for_pipeline(settings: Settings, after: float) -> None:
    client = AirflowClient(settings)
    client.wait_for_dags()
    client.trigger("kouiki_ingest")
    client.wait_for_success("kouiki_publish", after=after, timeout=600)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """Broker, Airflow and the gateway on free loopback ports; consortia A and B registered and their
    reports before this quarter landed; one secretariat each."""
    settings = settings_for(tmp_path_factory.mktemp("portal") / "data", f"127.0.0.1:{free_port()}")
    with running_platform(settings, portal_port=free_port()) as running:
        portal.start(running)
        try:
            operator = users.add_user(running, "ops", "operator").token
            passwords = {
                "sec-a": users.add_user(running, "sec-a", "secretariat", [CONSORTIUM_A]).password,
                "sec-b": users.add_user(running, "sec-b", "secretariat", [CONSORTIUM_B]).password,
            }
            data = sample()
            earlier = [d for code in data.reports for d in data.reports[code] if d["period"] < PERIOD]
            started = time.time() - 1
            answer = httpx.post(
                f"{portal.base_url(running)}/api/v1/submissions",
                content=jsonl(data.registrations + earlier),
                headers=bearer(operator) | {"Content-Type": "application/x-ndjson"},
                timeout=120,
            ).json()
            assert all(d["status"] == "sent" for d in answer["documents"]), answer
            wait_for_pipeline(running, started)
            projects = [
                d for d in data.registrations if d.get("entity") == "project" and d["consortium_code"] == CONSORTIUM_A
            ]
            yield Portal(running, portal.base_url(running), passwords, projects)
        finally:
            portal.stop(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(1366, 768, accept_downloads=True) as context:
        yield context


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"portal-{name}.png"), full_page=True)


def log_in(page: Any, portal_: Portal, username: str, *, keyboard: bool = False) -> None:
    """Log in by the labelled fields, clicking the button or, with ``keyboard``, by keys alone."""
    page.goto(f"{portal_.url}/login")
    if keyboard:  # the username field has the focus when the page opens
        page.wait_for_function("document.activeElement && document.activeElement.id === 'username'", timeout=5000)
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type(portal_.passwords[username])
        page.keyboard.press("Enter")
    else:
        page.get_by_label(re.compile("ユーザー名")).fill(username)
        page.get_by_label(re.compile("パスワード")).fill(portal_.passwords[username])
        page.get_by_role("button", name=re.compile("ログイン")).click()
    page.wait_for_url(lambda url: "/login" not in url)


def header_columns(sheet: Any) -> dict[str, int]:
    """Column number of each machine key or label in the sheet's header rows."""
    found: dict[str, int] = {}
    for row in sheet.iter_rows(min_row=1, max_row=3):
        for cell in row:
            if isinstance(cell.value, str):
                found.setdefault(cell.value.strip(), cell.column)
    return found


def column_of(sheet: Any, *names: str) -> int:
    headers = header_columns(sheet)
    for name in names:
        for header, column in headers.items():
            if name == header or f"({name})" in header or header.startswith(name):
                return column
    raise AssertionError(f"{sheet.title}: none of {names} in the header {sorted(headers)}")


def rows_of(sheet: Any, project_code: str) -> list[int]:
    code_column = column_of(sheet, "project_code", "事業コード")
    return [
        row
        for row in range(2, sheet.max_row + 1)
        if str(sheet.cell(row=row, column=code_column).value or "").strip() == project_code
    ]


@dataclass(frozen=True)
class Mistakes:
    percent: str  # e.g. 報告!G5
    amount: str
    status: str


def fill(template: bytes, project: dict[str, Any], *, mistakes: bool) -> tuple[bytes, Mistakes]:
    """The template filled for ``project`` the way a secretariat would; with ``mistakes``, a percent
    of 150, an amount typed as text and a status that is not in the list."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    code = project["project_code"]
    report = book["報告"]
    row = rows_of(report, code)[0]
    status_cell = report.cell(row=row, column=column_of(report, "status", "状況"))
    percent_cell = report.cell(row=row, column=column_of(report, "percent_complete", "進捗率"))
    status_cell.value = "進行中" if mistakes else "順調"
    percent_cell.value = 150 if mistakes else 55
    report.cell(
        row=row, column=column_of(report, "summary_ja", "概要")
    ).value = "<script>alert('x')</script> 第3四半期の進捗"
    funding = book["資金"]
    line = rows_of(funding, code)[0]
    funding.cell(row=line, column=column_of(funding, "source_type", "財源")).value = "national_grant"
    funding.cell(row=line, column=column_of(funding, "stage", "段階")).value = "executed"
    amount_cell = funding.cell(row=line, column=column_of(funding, "amount_jpy", "金額"))
    amount_cell.value = "十二百万" if mistakes else "¥12,345,678"
    kpis = book["KPI"]
    for kpi_row in rows_of(kpis, code):
        kpis.cell(row=kpi_row, column=column_of(kpis, "value", "実績値")).value = 42
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), Mistakes(
        f"報告!{percent_cell.coordinate}", f"資金!{amount_cell.coordinate}", f"報告!{status_cell.coordinate}"
    )


def upload(page: Any, portal_: Portal, content: bytes, name: str) -> None:
    page.goto(f"{portal_.url}/submit")
    page.set_input_files(
        "input[type=file]", files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}]
    )
    page.get_by_role("button", name=re.compile("内容を確認する")).click()
    page.wait_for_load_state()


def statuses(page: Any) -> list[str]:
    """The status shown for each document of a submission (the cells, not the page's explanation,
    which names every status)."""
    return [text.strip() for text in page.locator("td .state").all_inner_texts()]


def serving_amount(settings: Settings, project_code: str, period: str) -> int:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        row = con.execute(
            "select sum(amount_jpy) from marts.fct_investment where project_code = ? and period = ?",
            [project_code, period],
        ).fetchone()
    return int(row[0] or 0) if row else 0


def test_a_secretariat_submits_the_quarter_from_the_browser(platform: Portal, browser: Any) -> None:
    page = browser.new_page()
    project = platform.projects[0]
    log_in(page, platform, "sec-a")
    shot(page, "1-home")

    page.goto(f"{platform.url}/templates")
    shot(page, "2-templates")
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("四半期報告の様式をダウンロード")).click()
    template = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(template))
    assert {"説明", "報告", "資金", "KPI", "マイルストーン"} <= set(book.sheetnames)
    assert rows_of(book["報告"], project["project_code"]), "the template lists the consortium's projects"

    wrong, mistakes = fill(template, project, mistakes=True)
    upload(page, platform, wrong, "報告_誤りあり.xlsx")
    shot(page, "3-check-with-mistakes")
    text = page.inner_text("main")
    for where in (mistakes.percent, mistakes.amount, mistakes.status):
        assert where in text, f"{where} is not named on the page"
    assert "送信済" not in text

    right, _ = fill(template, project, mistakes=False)
    upload(page, platform, right, "報告.xlsx")
    shot(page, "4-check-clean")
    started = time.time() - 1
    page.get_by_role("button", name=re.compile("送信する")).click()
    page.wait_for_url(re.compile("/history/"))
    shot(page, "5-sent")
    assert statuses(page) == ["送信済"]
    assert "<script>" not in page.content().replace("&lt;script&gt;", "")

    wait_for_pipeline(platform.settings, started)
    page.reload()
    shot(page, "6-published")
    assert statuses(page) == ["反映済"]
    assert serving_amount(platform.settings, project["project_code"], PERIOD) == 12_345_678

    page.goto(f"{platform.url}/history")
    shot(page, "7-history")
    assert project["project_code"] in page.inner_text("main")


def test_another_secretariat_sees_none_of_it(platform: Portal, browser: Any) -> None:
    page = browser.new_page()
    log_in(page, platform, "sec-b", keyboard=True)
    a_codes = [CONSORTIUM_A] + [p["project_code"] for p in platform.projects]
    for path in ("/", "/history", "/notices", "/templates", "/submit"):
        page.goto(f"{platform.url}{path}")
        shown = page.content()
        assert not [code for code in a_codes if code in shown], f"{path} shows consortium A's data"
    page.goto(f"{platform.url}/history")
    shot(page, "8-other-secretariat-history")
    refused = page.goto(f"{platform.url}/templates/report.xlsx?consortium={CONSORTIUM_A}&period={PERIOD}")
    assert refused is not None and refused.status == 403
