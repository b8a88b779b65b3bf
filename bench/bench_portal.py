"""Latency of the secretariat portal's pages, beside a bare baseline (``/healthz``) in the same run.

Starts a broker and the gateway (uvicorn, as ``kouiki portal start`` does) on free ports over a fresh
data directory, registers one consortium's sample registrations as an operator and lands them, sends
a few of its reports (so the history has rows, landed), logs in through the form as its secretariat,
then requests each page ``--runs`` times (after a warm-up) and prints the median and p95 per page.

    .venv/bin/python bench/bench_portal.py --runs 50
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from kouiki.config import Settings
from kouiki.contract.periods import recent_quarters
from kouiki.gateway.portal.pages import today
from kouiki.identity import users
from kouiki.intake.template import report_workbook
from kouiki.landing import coordinator
from kouiki.sample.generator import generate
from kouiki.services import broker, portal
from kouiki.services.processes import free_port

CONSORTIUM = "KR-TOH-01"
NDJSON = {"Content-Type": "application/x-ndjson"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
GOAL_MS = 200.0


def jsonl(docs: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(d, ensure_ascii=False).encode() + b"\n" for d in docs)


def token_of(html: str) -> str:
    found = TOKEN.search(html)
    if found is None:
        raise SystemExit(f"no CSRF token on the page: {html[:500]}")
    return found.group(1)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def prepare(settings: Settings, client: httpx.Client, operator: str) -> str:
    """Registrations and a few reports of the consortium, landed; the id of the reports' submission."""
    sample = generate(seed=7, quarters=8)
    registry = [d for d in sample.registry if d["consortium_code"] == CONSORTIUM]
    reports = [d for d in sample.reports if d["consortium_code"] == CONSORTIUM][:20]
    headers = {"Authorization": f"Bearer {operator}"} | NDJSON
    client.post("/api/v1/submissions", content=jsonl(registry), headers=headers).raise_for_status()
    sent = client.post("/api/v1/submissions", content=jsonl(reports), headers=headers)
    sent.raise_for_status()
    coordinator.land(settings)
    submission_id: str = sent.json()["submission_id"]
    return submission_id


def filled(template: bytes) -> bytes:
    """The report workbook with each pre-filled project's progress filled in (columns found by the
    hidden row of machine keys), so the upload check reads and checks real reports."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = next(ws for ws in book.worksheets if "percent_complete" in [c.value for c in ws[3]])
    column = {c.value: c.column for c in sheet[3] if c.value}
    for row in range(4, sheet.max_row + 1):
        if sheet.cell(row, column["project_code"]).value:
            for key, value in (("status", "順調"), ("percent_complete", 60), ("summary_ja", "計画どおり")):
                sheet.cell(row, column[key]).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def login(client: httpx.Client, username: str, password: str) -> str:
    page = client.get("/login")
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token_of(page.text)})
    if answer.status_code != 200 or username not in answer.text:
        raise SystemExit(f"login failed: {answer.status_code} {answer.text[:300]}")
    return token_of(answer.text)


def checked(response: httpx.Response) -> httpx.Response:
    """An upload check that found reports to send (else the benchmark times the wrong thing)."""
    if response.status_code == 200 and "送信する" not in response.text:
        raise SystemExit(f"the workbook's reports did not pass the check: {response.text[-3000:]}")
    return response


def measure(request: Callable[[], httpx.Response], runs: int) -> list[float]:
    for _ in range(3):  # warm-up
        request().raise_for_status()
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        response = request()
        took.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kouiki-bench-portal-"))
    settings = Settings(data_dir=root / "data", bootstrap_servers=f"127.0.0.1:{free_port()}", portal_port=free_port())
    broker.start(settings)
    try:
        operator = users.add_user(settings, "bench-ops", "operator").token
        secretariat = users.add_user(settings, "bench-sec", "secretariat", [CONSORTIUM])
        portal.start(settings)
        with httpx.Client(base_url=portal.base_url(settings), timeout=300, follow_redirects=True) as client:
            submission_id = prepare(settings, client, operator)
            token = login(client, secretariat.username, secretariat.password)
            period = recent_quarters(today())[1]
            workbook = filled(report_workbook(settings, CONSORTIUM, period))
            pages: dict[str, Callable[[], httpx.Response]] = {
                "/healthz (baseline)": lambda: client.get("/healthz"),
                "home /": lambda: client.get("/"),
                "templates": lambda: client.get("/templates"),
                "template download": lambda: client.get(
                    "/templates/report.xlsx", params={"consortium": CONSORTIUM, "period": period}
                ),
                "history list": lambda: client.get("/history"),
                "history detail (20 docs)": lambda: client.get(f"/history/{submission_id}"),
                "notices": lambda: client.get("/notices"),
                "submit page": lambda: client.get("/submit"),
                "upload check (.xlsx)": lambda: checked(
                    client.post("/submit", data={"csrf_token": token}, files={"file": ("報告.xlsx", workbook)})
                ),
            }
            print(f"{'page':<26} {'median ms':>10} {'p95 ms':>8}   ({args.runs} requests each, one client)")
            slow = []
            for name, request in pages.items():
                took = measure(request, args.runs)
                print(f"{name:<26} {statistics.median(took):>10.1f} {p95(took):>8.1f}")
                if p95(took) >= GOAL_MS:
                    slow.append(name)
            print(f"goal p95 < {GOAL_MS:.0f} ms: " + ("met" if not slow else f"missed by {', '.join(slow)}"))
    finally:
        portal.stop(settings)
        broker.stop(settings)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
