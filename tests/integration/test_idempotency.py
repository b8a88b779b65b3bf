"""Re-sending the same event_id changes nothing in the marts; a higher version supersedes.
Through the real broker, lander and dbt build."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kouiki.config import Settings
from kouiki.sample.generator import generate
from kouiki.services import broker
from tests.support import reference
from tests.support.platform import free_port, run_kouiki
from tests.support.signing import settings_for

pytestmark = pytest.mark.integration


def investment(settings: Settings) -> dict[tuple[str, ...], int]:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        rows = con.sql(
            "select project_code, period, source_type, stage, pref_code, amount_jpy from marts.fct_investment"
        ).fetchall()
    return {tuple(r[:5]): r[5] for r in rows}


def cycle(settings: Settings, *files: Path) -> dict[tuple[str, ...], int]:
    run_kouiki(settings, "submit", *map(str, files), check=True)
    run_kouiki(settings, "ingest", check=True)
    run_kouiki(settings, "build", check=True)
    return investment(settings)


def write_jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


def test_resend_is_a_no_op_and_a_higher_version_supersedes(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", f"127.0.0.1:{free_port()}")
    broker.start(settings)
    try:
        sample = generate(seed=41, quarters=2)
        registry, reports = sample.write(tmp_path / "sample")
        first = cycle(settings, registry, reports)
        docs = reference.read_jsonl([registry, reports])
        assert first == reference.investment_lines(docs)

        again = cycle(settings, reports)  # the very same events, landed a second time
        assert again == first

        latest = reference.latest_reports(docs)
        (project, period), report = sorted(latest.items())[0]
        correction = copy.deepcopy(report)
        correction["event_id"] = "00000000-0000-4000-8000-00000000c0de"
        correction["version"] = report["version"] + 1
        area = next(d for d in docs if d.get("entity") == "project" and d["project_code"] == project)["areas"][0]
        correction["funding"] = [
            {
                "source_type": "national_grant",
                "stage": "executed",
                "amount_jpy": 123_456_789,
                "pref_code": area["pref_code"],
            }
        ]
        corrected = cycle(settings, write_jsonl(tmp_path / "correction.jsonl", [correction]))
        assert corrected == reference.investment_lines([*docs, correction])
        assert {k: v for k, v in corrected.items() if k[:2] == (project, period)} == {
            (project, period, "national_grant", "executed", correction["funding"][0]["pref_code"]): 123_456_789
        }
        assert {k: v for k, v in corrected.items() if k[:2] != (project, period)} == {
            k: v for k, v in first.items() if k[:2] != (project, period)
        }
    finally:
        broker.stop(settings)
