"""Generate realistic synthetic registry and report events (contract v1), deterministic for a seed.

The consortia come from the synthetic examples in ``consortia.json`` (invented, not facts). Each gets
one to three projects over the prefectures it declared, and each project files one report per fiscal
quarter. Some reports are corrected by a second version, some are re-sent unchanged (same event_id),
and about half of the funding lines leave out ``pref_code`` so that allocation by area share is used.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

JST = timezone(timedelta(hours=9))
SOURCES = ("national_grant", "prefecture", "municipality", "private", "corporate_furusato", "loan")
STATUSES = ("on_track",) * 6 + ("at_risk", "at_risk", "delayed", "not_started")
SECTORS = (("GOV", "構成自治体"), ("IND", "経済団体"), ("ACA", "大学"), ("FIN", "地方銀行"))
# Each project KPI contributes to the national KPI its subject serves: skills and private investment
# to labour productivity (KB-04), firms taking part to value creation by firms (KB-06), CO2 avoided
# to the decarbonisation-leading areas (KP-14).
KPI_TEMPLATES = (
    ("TRAINEES", "研修受講者数", "PERSON", "sum", "increase", "KB-04"),
    ("INVEST_PRIV", "民間投資額", "JPY", "sum", "increase", "KB-04"),
    ("FIRMS", "参画事業者数", "COUNT_FIRM", "latest", "increase", "KB-06"),
    ("CO2_AVOIDED", "CO2削減量", "TCO2", "sum", "increase", "KP-14"),
)


@dataclass
class SampleSet:
    registry: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, docs in (("registry.jsonl", self.registry), ("reports.jsonl", self.reports)):
            path = out_dir / name
            with path.open("w", encoding="utf-8") as f:
                for doc in docs:
                    f.write(json.dumps(doc, ensure_ascii=False) + "\n")
            paths.append(path)
        return paths


def quarter_end(fy: int, quarter: int) -> date:
    """Last day of a Japanese fiscal quarter (Q1 = April-June)."""
    return {1: date(fy, 6, 30), 2: date(fy, 9, 30), 3: date(fy, 12, 31), 4: date(fy + 1, 3, 31)}[quarter]


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def timestamp(self, day: date) -> str:
        moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=JST)
        return (moment + timedelta(minutes=self.rng.randrange(0, 9 * 60))).isoformat()

    def envelope(self, day: date, code: str) -> dict[str, Any]:
        return {
            "schema_version": "1.0",
            "event_id": self.uuid(),
            "submitted_at": self.timestamp(day),
            "submitted_by": f"secretariat@{code.lower()}.example.jp",
        }

    def shares(self, n: int) -> list[float]:
        """n shares in whole percent, each at least 5 %, summing to exactly 100 %."""
        cuts = sorted(self.rng.sample(range(1, 20), n - 1)) if n > 1 else []
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, 20], strict=True)]
        return [p * 5 / 100 for p in parts]

    def consortium(self, spec: dict[str, Any]) -> dict[str, Any]:
        code = spec["code"]
        members = [
            {"name_ja": f"{spec['name_ja'][:12]} {label}", "sector": sector, "role": "構成員"}
            for sector, label in SECTORS
        ]
        members[0]["role"] = "事務局"
        return {
            **self.envelope(date(2025, 4, 1), code),
            "entity": "consortium",
            "consortium_code": code,
            "name_ja": spec["name_ja"],
            "name_en": spec["name_en"],
            "declared_on": "2025-04-01",
            "prefectures": spec["prefectures"],
            "members": members,
        }

    def project(self, spec: dict[str, Any], number: int) -> dict[str, Any]:
        code = f"{spec['code']}-P{number:02d}"
        prefs = spec["prefectures"]
        chosen = sorted(self.rng.sample(prefs, min(len(prefs), self.rng.randint(1, 4))))
        start_fy = self.rng.choice((2025, 2025, 2026))
        kpis = []
        for kpi_code, name_ja, unit, aggregation, direction, national in self.rng.sample(KPI_TEMPLATES, 2):
            baseline = float(self.rng.randrange(0, 500))
            kpis.append(
                {
                    "kpi_code": kpi_code,
                    "name_ja": name_ja,
                    "unit": unit,
                    "aggregation": aggregation,
                    "direction": direction,
                    "baseline": baseline,
                    "target": baseline + self.rng.randrange(500, 5000),
                    "target_fy": start_fy + 4,
                    "contributes_to": national,
                }
            )
        theme = spec["themes"][(number - 1) % len(spec["themes"])]
        return {
            **self.envelope(date(2025, 4, 15), spec["code"]),
            "entity": "project",
            "project_code": code,
            "consortium_code": spec["code"],
            "title_ja": f"{spec['name_ja']} 第{number}事業",
            "title_en": f"{spec['name_en']}, project {number}",
            "theme": theme,
            "policy_code": spec["policy"],
            "start_fy": start_fy,
            "end_fy": start_fy + 4,
            "planned_budget_jpy": self.rng.randrange(100, 3000) * 1_000_000,
            "areas": [{"pref_code": p, "share": s} for p, s in zip(chosen, self.shares(len(chosen)), strict=True)],
            "kpis": kpis,
        }

    def funding(self, project: dict[str, Any]) -> list[dict[str, Any]]:
        lines = []
        for stage in ("planned", "committed", "executed"):
            for source in self.rng.sample(SOURCES, self.rng.randint(1, 3)):
                amount = self.rng.randrange(1, 80_000) * 1_000 + self.rng.randrange(0, 999)
                line: dict[str, Any] = {"source_type": source, "stage": stage, "amount_jpy": amount}
                if self.rng.random() < 0.5:
                    line["pref_code"] = self.rng.choice(project["areas"])["pref_code"]
                lines.append(line)
        return lines

    def report(self, project: dict[str, Any], fy: int, quarter: int, version: int) -> dict[str, Any]:
        due = quarter_end(fy, quarter) + timedelta(days=self.rng.randrange(5, 40) + 10 * (version - 1))
        elapsed = (fy - project["start_fy"]) * 4 + quarter
        kpis = [{"kpi_code": k["kpi_code"], "value": float(self.rng.randrange(0, 400))} for k in project["kpis"]]
        milestone_date = quarter_end(fy, quarter) - timedelta(days=20)
        return {
            **self.envelope(due, project["consortium_code"]),
            "consortium_code": project["consortium_code"],
            "project_code": project["project_code"],
            "period": f"FY{fy}Q{quarter}",
            "version": version,
            "progress": {
                "status": self.rng.choice(STATUSES),
                "percent_complete": min(100.0, round(elapsed * 100 / 20, 1)),
                "summary_ja": "（合成データ）計画に沿って事業を実施。",
                "milestones": [
                    {
                        "milestone_code": f"M{elapsed:02d}",
                        "title_ja": "四半期マイルストーン",
                        "planned_date": milestone_date.isoformat(),
                        "status": self.rng.choice(("done", "done", "on_track", "delayed")),
                        "actual_date": None,
                    }
                ],
            },
            "funding": self.funding(project),
            "kpis": kpis,
        }


def generate(seed: int = 42, first_fy: int = 2025, quarters: int = 6) -> SampleSet:
    """Registry events first, then reports for ``quarters`` fiscal quarters from ``first_fy`` Q1."""
    gen = _Generator(seed)
    specs = json.loads(resources.files(__package__).joinpath("consortia.json").read_text(encoding="utf-8"))
    sample = SampleSet()
    projects = []
    for spec in specs:
        sample.registry.append(gen.consortium(spec))
        for number in range(1, gen.rng.randint(1, 3) + 1):
            project = gen.project(spec, number)
            sample.registry.append(project)
            projects.append(project)
    for index in range(quarters):
        fy, quarter = first_fy + index // 4, index % 4 + 1
        for project in projects:
            if not project["start_fy"] <= fy <= project["end_fy"]:
                continue
            report = gen.report(project, fy, quarter, version=1)
            sample.reports.append(report)
            if gen.rng.random() < 0.1:
                sample.reports.append(gen.report(project, fy, quarter, version=2))
            if gen.rng.random() < 0.05:
                sample.reports.append(dict(report))  # re-sent unchanged: same event_id, a no-op
    return sample
