"""Generate believable synthetic registry and report events (contract v1), deterministic for a seed.

The consortia come from the synthetic examples in ``consortia.json`` (invented, not facts). Each gets
one to three projects over the prefectures it declared; a project runs five fiscal years and files one
report per fiscal quarter. The numbers behave as such projects do, so the dashboards read true:

- **Funding.** Each project, fiscal year and source has a plan, sized from ``planned_budget_jpy`` over
  the project's years (a smaller first year). A report's funding lines are flows for its quarter (the
  marts add them up by fiscal year): the year's plan (当初予算) comes in Q1, now and then with a
  supplementary one (補正予算) in Q3; 交付決定 (committed) mostly in Q1-Q2; execution grows through the
  four quarters. Summed from Q1 to any quarter, executed <= committed <= planned for every source, except
  in one project-year per dataset that overspends by a few per cent on purpose (``_YearPlan``). Money
  from prefectures (and from some municipalities) is reported per prefecture of the project's areas;
  the rest has no pref_code and is allocated by area share. Plans and commitments are whole thousands
  of yen, execution exact yen.
- **KPIs.** Each project's KPIs fit its theme (``THEME_KPIS``) and name the national KPI or logic-model
  item they serve (``contributes_to``; LOCAL where none). Each project has a pace (ahead, near pace or
  behind): a sum-KPI reports flows that add up, over the quarters to target_fy, to about (target -
  baseline) times that pace; a latest-KPI reports a level moving from baseline toward target at that
  pace; both with noise. Counts of persons, firms or sites are whole numbers.
- **Reporting.** Most reports arrive in the last weeks before the due date (quarter end + 30 days); some
  arrive late and a handful never (more often from projects behind). Some are corrected by a second
  version (the confirmed figures after preliminary ones), some re-sent unchanged (same event_id).

``refused_example`` is one more report that the lander dead-letters: ``kouiki demo`` sends it signed
after the sample, so the data-quality dashboard has something to show.
"""

from __future__ import annotations

import copy
import json
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

JST = timezone(timedelta(hours=9))
SOURCES = ("national_grant", "prefecture", "municipality", "private", "corporate_furusato", "loan")
SECTORS = (("GOV", "構成自治体"), ("IND", "経済団体"), ("ACA", "大学"), ("FIN", "地方銀行"))
DUE_DAYS = 30  # a quarter's report is due 30 days after the quarter ends
WHOLE_UNITS = ("PERSON", "PERSON_CUM", "COUNT")  # and every COUNT_*: whole numbers
CAPITAL_THEMES = ("GX", "INDUSTRY", "INFRA", "LOGISTICS", "TRANSPORT")  # where loans are common


@dataclass(frozen=True)
class KpiTemplate:
    """A project KPI a theme's projects commonly set. ``gain`` is the range of |target - baseline| for
    a five-year target of a ¥1 bn project (scaled by the years to target_fy and the budget's square
    root); a sum-KPI counts from ``baseline`` (usually 0, what the project adds), a latest-KPI starts
    at the level ``baseline``. ``policies``: only for projects under these measures."""

    kpi_code: str
    name_ja: str
    unit: str
    aggregation: str
    direction: str
    contributes_to: str
    baseline: tuple[float, float]
    gain: tuple[float, float]
    policies: tuple[str, ...] = ()


KPI_NAMES = {
    "INBOUND_STAYS": "外国人延べ宿泊者数",
    "TOURISM_SPEND": "観光消費額",
    "TOUR_PRODUCTS": "広域周遊商品の造成数",
    "HQ_JOBS": "本社機能の移転・拡充に伴う雇用者増加数",
    "INVEST_SEMI": "AI・半導体関連の民間投資額",
    "INVEST_PRIV": "民間投資額",
    "FIRMS": "参画事業者数",
    "NEW_PRODUCTS": "新商品・新サービスの開発件数",
    "CO2_AVOIDED": "CO2削減量",
    "GX_INVEST": "GX関連の官民投資額",
    "RE_FIRMS": "再エネ電力を調達する事業者数",
    "DX_SERVICES": "デジタル実装したサービス数",
    "DX_MUNIS": "デジタル実装に取り組む市町村数",
    "DX_USERS": "デジタル地域サービスの利用登録者数",
    "TRAINEES": "研修受講者数",
    "SIDE_JOB_PROS": "副業・兼業による専門人材の活用人数",
    "UIJ_HIRES": "UIJターン就職者数",
    "RIDERSHIP": "地域公共交通の利用者数",
    "BLANK_AREAS": "交通空白地区の解消数",
    "DEMAND_ROUTES": "デマンド交通の運行路線数",
    "SHARED_ASSETS": "広域連携で維持管理するインフラ施設数",
    "INSPECTED": "点検・修繕を実施した施設数",
    "UPKEEP_SAVED": "維持管理費の縮減額",
    "TELEMED": "オンライン診療の実施件数",
    "TRAVEL_MIN": "平均通院時間",
    "CARE_STAFF": "医療・介護人材の確保数",
    "EXPORT_VALUE": "農林水産物・食品の輸出額",
    "EXPORT_FIRMS": "新たに輸出に取り組む事業者数",
    "SMART_FARMS": "スマート農業技術を導入した経営体数",
    "DRONE_DELIVERIES": "ドローン・自動配送による配送件数",
    "JOINT_DELIVERY": "共同配送に参加する事業者数",
    "SPHERE_SHELTERS": "スフィア基準を満たす避難所数",
    "DRILL_PEOPLE": "広域防災訓練の参加者数",
    "STOCKPILE_MUNIS": "備蓄を相互融通する市町村数",
    "RELATION_POP": "関係人口の登録者数",
    "MIGRANTS": "移住者数",
    "EVENT_VISITORS": "交流イベント参加者数",
}
DECREASING = frozenset({"TRAVEL_MIN"})  # every other KPI aims to increase
ONLY_FOR = {"INVEST_SEMI": ("P4.01.iii",)}  # AI/semiconductor investment: projects under P4.01.iii only
# Per theme, the KPIs its projects set, the first the theme's headline KPI:
# (kpi_code, unit, aggregation, contributes_to, baseline range, gain range). contributes_to names a
# national KPI (dbt seeds/national_kpis.csv) or a logic-model item (seeds/policy_nodes.csv) the KPI
# serves, or LOCAL. Where a national KPI adds up in the KPI's own unit, the roll-up sums the
# contribution (HQ jobs → KP-23 persons, new exporters → KP-10 firms, AI/semiconductor and GX
# investment → KP-30/31 yen); elsewhere it counts: CO2 avoided (t-CO2) serves the decarbonisation-
# leading areas (KP-14, a count of areas), participating firms the share of municipalities with
# value-creating firms (KB-06), inbound stays the 60 million visitors (KP-11, counted only).
_THEME_ROWS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "TOURISM": (
        ("INBOUND_STAYS", "PERSON", "sum", "KP-11", (0, 0), (30_000, 150_000)),
        ("TOURISM_SPEND", "JPY", "sum", "G1.A.g", (0, 0), (5e8, 4e9)),
        ("TOUR_PRODUCTS", "COUNT", "sum", "G1.A.a", (0, 0), (10, 60)),
    ),
    "INDUSTRY": (
        ("HQ_JOBS", "PERSON", "sum", "KP-23", (0, 0), (60, 400)),
        ("INVEST_SEMI", "JPY", "sum", "KP-30", (0, 0), (3e9, 2e10)),
        ("INVEST_PRIV", "JPY", "sum", "G1.A.c", (0, 0), (1e9, 8e9)),
        ("FIRMS", "COUNT_FIRM", "latest", "KB-06", (5, 40), (20, 120)),
        ("NEW_PRODUCTS", "COUNT", "sum", "G1.A.d", (0, 0), (10, 80)),
    ),
    "GX": (
        ("CO2_AVOIDED", "TCO2", "sum", "KP-14", (0, 0), (3_000, 40_000)),
        ("GX_INVEST", "JPY", "sum", "KP-31", (0, 0), (2e9, 1.5e10)),
        ("RE_FIRMS", "COUNT_FIRM", "latest", "G1.A.b", (3, 30), (20, 100)),
    ),
    "DX": (
        ("DX_SERVICES", "COUNT", "sum", "G1.A.b", (0, 0), (5, 30)),
        ("DX_MUNIS", "COUNT_LG", "latest", "KB-14", (2, 15), (10, 40)),
        ("DX_USERS", "PERSON_CUM", "latest", "G1.A.b", (0, 2_000), (5_000, 40_000)),
        ("FIRMS", "COUNT_FIRM", "latest", "KB-06", (5, 40), (20, 120)),
    ),
    "TALENT": (
        ("TRAINEES", "PERSON", "sum", "G1.B.h", (0, 0), (400, 3_000)),
        ("SIDE_JOB_PROS", "PERSON", "sum", "KP-26", (0, 0), (30, 200)),
        ("UIJ_HIRES", "PERSON", "sum", "G3.E.r", (0, 0), (60, 500)),
    ),
    "TRANSPORT": (
        ("RIDERSHIP", "PERSON", "sum", "G2.C.i", (0, 0), (100_000, 800_000)),
        ("BLANK_AREAS", "COUNT", "sum", "KB-09", (0, 0), (3, 20)),
        ("DEMAND_ROUTES", "COUNT", "latest", "G2.C.i", (2, 10), (5, 25)),
    ),
    "INFRA": (
        ("SHARED_ASSETS", "COUNT", "latest", "KP-37", (0, 50), (50, 400)),
        ("INSPECTED", "COUNT", "sum", "G2.C.k", (0, 0), (100, 1_000)),
        ("UPKEEP_SAVED", "JPY", "sum", "G2.C.k", (0, 0), (5e7, 5e8)),
    ),
    "MEDICAL": (
        ("TELEMED", "COUNT", "sum", "KB-08", (0, 0), (2_000, 20_000)),
        ("TRAVEL_MIN", "MINUTES", "latest", "KB-08", (30, 90), (5, 20)),
        ("CARE_STAFF", "PERSON", "sum", "G2.D.m", (0, 0), (50, 400)),
    ),
    "FOOD_EXPORT": (
        ("EXPORT_VALUE", "JPY", "sum", "KB-05", (0, 0), (5e8, 5e9)),
        ("EXPORT_FIRMS", "COUNT_FIRM", "sum", "KP-10", (0, 0), (10, 80)),
        ("SMART_FARMS", "COUNT_FIRM", "latest", "KP-20", (5, 50), (30, 200)),
    ),
    "LOGISTICS": (
        ("DRONE_DELIVERIES", "COUNT", "sum", "G2.C.j", (0, 0), (2_000, 30_000)),
        ("JOINT_DELIVERY", "COUNT_FIRM", "latest", "LOCAL", (3, 20), (10, 60)),
        ("FIRMS", "COUNT_FIRM", "latest", "KB-06", (5, 40), (20, 120)),
    ),
    "DISASTER": (
        ("SPHERE_SHELTERS", "COUNT_SITE", "latest", "KB-10", (5, 50), (20, 150)),
        ("DRILL_PEOPLE", "PERSON", "sum", "G2.C.l", (0, 0), (2_000, 20_000)),
        ("STOCKPILE_MUNIS", "COUNT_LG", "latest", "KB-10", (0, 10), (10, 40)),
    ),
    "OTHER": (
        ("RELATION_POP", "PERSON_CUM", "latest", "KP-24", (500, 5_000), (3_000, 30_000)),
        ("MIGRANTS", "PERSON", "sum", "G3.E.r", (0, 0), (100, 1_000)),
        ("EVENT_VISITORS", "PERSON", "sum", "LOCAL", (0, 0), (5_000, 50_000)),
    ),
}
THEME_KPIS: dict[str, tuple[KpiTemplate, ...]] = {
    theme: tuple(
        KpiTemplate(
            code,
            KPI_NAMES[code],
            unit,
            aggregation,
            "decrease" if code in DECREASING else "increase",
            link,
            baseline,
            gain,
            ONLY_FOR.get(code, ()),
        )
        for code, unit, aggregation, link, baseline, gain in rows
    )
    for theme, rows in _THEME_ROWS.items()
}

# (pace, share of projects, range of the pace factor): how fast a project moves toward its targets
PACES = (("ahead", 0.2, (1.3, 1.8)), ("near", 0.55, (1.0, 1.2)), ("behind", 0.25, (0.35, 0.75)))
CAUTIOUS_TARGETS = 0.08  # the share of KPIs whose target was set cautiously: reached at two to three times the pace
MILESTONES = (
    "推進体制の構築",
    "事業計画の策定",
    "参画事業者の募集",
    "実証事業の開始",
    "中間評価",
    "本格実施への移行",
    "広域展開の検討",
    "成果の取りまとめ",
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


def is_whole(unit: str) -> bool:
    return unit in WHOLE_UNITS or unit.startswith("COUNT_")


def split(amount: int, weights: list[float]) -> list[int]:
    """``amount`` in whole parts proportional to ``weights``, by largest remainder (the parts add up)."""
    if len(weights) == 1:
        return [amount]
    total = sum(weights)
    exact = [amount * w / total for w in weights]
    parts = [math.floor(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: parts[i] - exact[i])[: amount - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass
class _YearPlan:
    """One project's funding in one fiscal year: per quarter, the lines a report gives (flows), and
    per quarter the project's totals of each stage, to check that leaving a report out keeps executed
    <= committed <= planned. The one overspending project-year (``_Generator.overspend``) executes
    its whole commitment and a few per cent more in Q4: a cost overrun the consortium paid from its
    own prefecture's funds, left in on purpose so the 執行率 views show what an overrun looks like."""

    lines: dict[int, list[dict[str, Any]]]
    totals: dict[int, dict[str, int]]

    def holds_without(self, quarters: set[int]) -> bool:
        """Whether executed <= committed <= planned still holds at the end of every quarter when the
        reports of ``quarters`` are never filed (their flows are then lost)."""
        sums = dict.fromkeys(("planned", "committed", "executed"), 0)
        for q in (1, 2, 3, 4):
            if q not in quarters:
                for stage in sums:
                    sums[stage] += self.totals[q][stage]
            if not sums["executed"] <= sums["committed"] <= sums["planned"]:
                return False
        return True


class _Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.paces: dict[str, float] = {}  # project code -> pace factor
        self.overspend: tuple[str, int] | None = None  # the one project-year that overspends
        self.missing: dict[tuple[str, int], set[int]] = {}  # (project, fiscal year) -> quarters never reported
        self._plans: dict[tuple[str, int], _YearPlan] = {}
        self._mixes: dict[str, list[tuple[str, float, bool]]] = {}
        self._paths: dict[tuple[str, str], list[float]] = {}

    def sub(self, *parts: object) -> random.Random:
        """A generator of its own for one part of the data (a project-year's plan, a KPI's path), so
        that part does not depend on the order in which parts are asked for."""
        return random.Random("/".join(map(str, (self.seed, *parts))))

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

    # --- registration ------------------------------------------------------------------------------

    def project(
        self,
        spec: dict[str, Any],
        number: int,
        *,
        start_fy: int | None = None,
        end_fy: int | None = None,
        policy_code: str | None = None,
        kpi_count: int = 2,
    ) -> dict[str, Any]:
        code = f"{spec['code']}-P{number:02d}"
        prefs = spec["prefectures"]
        chosen = sorted(self.rng.sample(prefs, min(len(prefs), self.rng.randint(1, 4))))
        start = start_fy if start_fy is not None else self.rng.choice((2025, 2025, 2026))
        end = end_fy if end_fy is not None else start + 4
        theme = spec["themes"][(number - 1) % len(spec["themes"])]
        policy = policy_code or spec["policy"]
        budget = self.rng.randrange(100, 3000) * 1_000_000 * (end - start + 1) // 5
        self.paces[code] = self.pace()
        return {
            **self.envelope(date(2025, 4, 15), spec["code"]),
            "entity": "project",
            "project_code": code,
            "consortium_code": spec["code"],
            "title_ja": f"{spec['name_ja']} 第{number}事業",
            "title_en": f"{spec['name_en']}, project {number}",
            "theme": theme,
            "policy_code": policy,
            "start_fy": start,
            "end_fy": end,
            "planned_budget_jpy": budget,
            "areas": [{"pref_code": p, "share": s} for p, s in zip(chosen, self.shares(len(chosen)), strict=True)],
            "kpis": self.kpis(theme, policy, start, end, budget, kpi_count),
        }

    def pace(self) -> float:
        draw, cumulative = self.rng.random(), 0.0
        for _name, share, (low, high) in PACES:
            cumulative += share
            if draw < cumulative:
                return round(self.rng.uniform(low, high), 3)
        return 1.0

    def kpis(self, theme: str, policy: str, start: int, end: int, budget: int, count: int) -> list[dict[str, Any]]:
        """The theme's headline KPI (or the one its measure calls for) and ``count - 1`` others of the
        theme; the headline runs to end_fy, the others sometimes to an earlier year."""
        fitting = [t for t in THEME_KPIS[theme] if not t.policies or policy.startswith(t.policies)]
        first = next((t for t in fitting if t.policies), fitting[0])
        others = [t for t in fitting if t is not first]
        chosen = [first, *self.rng.sample(others, min(len(others), count - 1))]
        scale = math.sqrt(budget / (end - start + 1) * 5 / 1e9)
        kpis = []
        for index, template in enumerate(chosen):
            target_fy = end if index == 0 else self.rng.choice((end, end, start + 2, start + 1))
            years = target_fy - start + 1
            low, high = template.baseline
            baseline = self.rng.uniform(low, high)
            gain = self.rng.uniform(*template.gain)
            if template.direction == "decrease":
                gain = min(gain, baseline * 0.4)  # minutes never go below zero
                target = baseline - gain
            else:
                gain *= scale * (years / 5 if template.aggregation == "sum" else min(1.0, years / 5 + 0.2))
                target = baseline + gain
            baseline = self.rounded(baseline, template.unit)
            target = self.rounded(target, template.unit, target=True)
            if abs(target - baseline) < 3:  # a target so near the baseline is no target: at least 3 more
                target = baseline + (3 if template.direction == "increase" else -3)
            kpis.append(
                {
                    "kpi_code": template.kpi_code,
                    "name_ja": template.name_ja,
                    "unit": template.unit,
                    "aggregation": template.aggregation,
                    "direction": template.direction,
                    "baseline": baseline,
                    "target": target,
                    "target_fy": target_fy,
                    "contributes_to": template.contributes_to,
                }
            )
        return kpis

    @staticmethod
    def rounded(value: float, unit: str, target: bool = False) -> float:
        """A value as a secretariat writes it: whole counts, yen in ten-thousands, targets in round
        figures, other units to one decimal."""
        value = max(0.0, value)
        if unit == "JPY":
            step = 10_000_000 if target else 10_000
        elif is_whole(unit):
            step = 10 if target and value >= 100 else 1
        elif target:
            step = 10 if value >= 1000 else 1
        else:
            return round(value, 1)
        return float(round(value / step) * step)

    # --- funding -----------------------------------------------------------------------------------

    def source_mix(self, project: dict[str, Any]) -> list[tuple[str, float, bool]]:
        """(source, share of the plan, reported per prefecture) for a project, in SOURCES order: the
        地方創生 grant (up to half), the prefectures' own money always, municipalities, private
        money, corporate furusato donations and loans where they fit the theme."""
        code = project["project_code"]
        if code not in self._mixes:
            rng = self.sub("mix", code)
            loan = 0.35 if project["theme"] in CAPITAL_THEMES else 0.05
            mix = [("national_grant", rng.uniform(0.35, 0.5), False), ("prefecture", rng.uniform(0.1, 0.25), True)]
            if rng.random() < 0.6:
                mix.append(("municipality", rng.uniform(0.05, 0.15), rng.random() < 0.3))
            if rng.random() < 0.5:
                mix.append(("private", rng.uniform(0.1, 0.3), False))
            if rng.random() < 0.2:
                mix.append(("corporate_furusato", rng.uniform(0.01, 0.04), False))
            if rng.random() < loan:
                mix.append(("loan", rng.uniform(0.1, 0.25), False))
            total = sum(share for _source, share, _by_area in mix)
            self._mixes[code] = [(source, share / total, by_area) for source, share, by_area in mix]
        return self._mixes[code]

    def year_plan(self, project: dict[str, Any], fy: int) -> _YearPlan:
        """The project's funding flows in fiscal year ``fy``, per quarter (computed once per year, with
        the areas of the registration the first report of the year is made under)."""
        key = (project["project_code"], fy)
        if key in self._plans:
            return self._plans[key]
        rng = self.sub("plan", *key)
        years = project["end_fy"] - project["start_fy"] + 1
        first_year = fy == project["start_fy"]
        weight = (0.6 if first_year else 1.0) / (years - 0.4)  # a smaller first year; the years add up to 1
        annual = project["planned_budget_jpy"] * weight * rng.uniform(0.93, 1.07)
        supplementary = rng.random() < 0.2  # a 補正予算 adds to the public money in Q3
        execute_rate = (rng.uniform(0.65, 0.9) if first_year else rng.uniform(0.86, 0.98)) * (
            rng.uniform(0.7, 0.9) if self.behind(project) else 1.0
        )
        if key == self.overspend:
            execute_rate = 1.0
        lines: dict[int, list[dict[str, Any]]] = {1: [], 2: [], 3: [], 4: []}
        totals = {q: dict.fromkeys(("planned", "committed", "executed"), 0) for q in (1, 2, 3, 4)}
        areas = [a["pref_code"] for a in project["areas"]]
        for source, share, by_area in self.source_mix(project):
            plan = annual * share
            extra = plan * rng.uniform(0.05, 0.2) if supplementary and source != "private" else 0.0
            stages = self.cumulative(rng, plan, extra, execute_rate, self.behind(project))
            weights = [a["share"] * rng.uniform(0.7, 1.3) for a in project["areas"]]
            for stage, cumulative in stages.items():
                for q, (before, now) in enumerate(zip([0, *cumulative[:3]], cumulative, strict=True), start=1):
                    totals[q][stage] += max(0, now - before)
                    lines[q].extend(self.lines(source, stage, now - before, areas if by_area else [], weights))
        if key == self.overspend:
            # the overrun: the lead prefecture paid 2-5 % of the year's commitments on top, in Q4
            overrun = int(sum(t["committed"] for t in totals.values()) * rng.uniform(0.02, 0.05))
            totals[4]["executed"] += overrun
            lines[4].extend(self.lines("prefecture", "executed", overrun, areas[:1], [1.0]))
        self._plans[key] = _YearPlan(lines, totals)
        return self._plans[key]

    @staticmethod
    def cumulative(
        rng: random.Random, plan: float, extra: float, execute_rate: float, behind: bool
    ) -> dict[str, list[int]]:
        """Each stage's amount from Q1 to the end of each quarter, for one source: the plan in Q1 (a
        supplementary ``extra`` of it in Q3); 交付決定 of the original plan in Q1-Q2 and of the
        supplementary one in Q3; execution growing through the year to ``execute_rate`` of the
        commitments. Plans and commitments in whole thousands of yen, execution in yen; each is
        capped by the stage before it, so executed <= committed <= planned at every quarter."""
        original = (plan - extra) / plan
        commit = plan * (rng.uniform(0.8, 0.95) if behind else rng.uniform(0.9, 1.0))
        committed_share = (original * rng.uniform(0.55, 0.8), original, 1.0, 1.0)
        executed_share = (rng.uniform(0.08, 0.16), rng.uniform(0.3, 0.4), rng.uniform(0.55, 0.65), 1.0)
        odd_yen = (rng.randrange(0, 1000), rng.randrange(0, 1000), rng.randrange(0, 1000), 0)
        planned = [int(p) // 1000 * 1000 for p in (plan - extra, plan - extra, plan, plan)]
        committed = [min(p, int(commit * s) // 1000 * 1000) for p, s in zip(planned, committed_share, strict=True)]
        executed = [
            min(c, int(commit * execute_rate * s) - odd)
            for c, s, odd in zip(committed, executed_share, odd_yen, strict=True)
        ]
        return {"planned": planned, "committed": committed, "executed": executed}

    @staticmethod
    def lines(source: str, stage: str, amount: int, areas: list[str], weights: list[float]) -> list[dict[str, Any]]:
        """The report's lines for one flow: one per prefecture (thousands of yen stay whole
        thousands) or one without pref_code; none for nothing."""
        if amount <= 0:
            return []
        if not areas:
            return [{"source_type": source, "stage": stage, "amount_jpy": amount}]
        unit = 1000 if amount % 1000 == 0 else 1
        parts = split(amount // unit, weights[: len(areas)])
        return [
            {"source_type": source, "stage": stage, "amount_jpy": part * unit, "pref_code": pref}
            for pref, part in zip(areas, parts, strict=True)
            if part > 0
        ]

    # --- KPIs --------------------------------------------------------------------------------------

    def kpi_path(self, project: dict[str, Any], kpi: dict[str, Any]) -> list[float]:
        """The KPI's value for each quarter of the project (index 0 = Q1 of start_fy), as reported:
        flows for a sum-KPI, the level for a latest (or mean) one. Its pace is the project's, +/- 8 %,
        or two to three times that for a target set cautiously."""
        key = (project["project_code"], kpi["kpi_code"])
        if key not in self._paths:
            rng = self.sub("kpi", *key)
            pace = self.paces[project["project_code"]] * rng.uniform(0.92, 1.08)
            if rng.random() < CAUTIOUS_TARGETS and not self.behind(project):
                pace *= rng.uniform(2.0, 3.0)
            quarters_to_target = (kpi["target_fy"] - project["start_fy"] + 1) * 4
            quarters = (project["end_fy"] - project["start_fy"] + 1) * 4
            gain = kpi["target"] - kpi["baseline"]
            path = []
            for k in range(1, quarters + 1):
                if kpi["aggregation"] == "sum":
                    value = gain / quarters_to_target * pace * rng.uniform(0.75, 1.25)
                    if is_whole(kpi["unit"]):  # 0.4 sites a quarter: now and then one, on average 0.4
                        value = math.floor(value) + (rng.random() < value - math.floor(value))
                else:
                    share = min(1.15, pace * k / quarters_to_target * rng.uniform(0.94, 1.06))
                    value = kpi["baseline"] + gain * share
                path.append(self.rounded(value, kpi["unit"]))
            self._paths[key] = path
        return self._paths[key]

    def kpi_values(self, project: dict[str, Any], fy: int, quarter: int) -> list[dict[str, Any]]:
        index = (fy - project["start_fy"]) * 4 + quarter - 1
        return [{"kpi_code": k["kpi_code"], "value": self.kpi_path(project, k)[index]} for k in project["kpis"]]

    # --- reports -----------------------------------------------------------------------------------

    def behind(self, project: dict[str, Any]) -> bool:
        return self.paces[project["project_code"]] < 0.9

    def is_missing(self, project: dict[str, Any], fy: int, quarter: int, rate: float = 0.02) -> bool:
        """A handful of quarters is never reported (three times as often by projects behind), and only
        where the year's funding still adds up without that report."""
        if self.rng.random() >= rate * (3 if self.behind(project) else 1):
            return False
        key = (project["project_code"], fy)
        missing = self.missing.setdefault(key, set())
        if key == self.overspend or not self.year_plan(project, fy).holds_without(missing | {quarter}):
            return False
        missing.add(quarter)
        return True

    def submission_day(self, fy: int, quarter: int, late: bool) -> date:
        """Most reports come in the last two weeks before the due date; a late one up to 25 days after."""
        days = (
            self.rng.randint(DUE_DAYS + 1, DUE_DAYS + 25)
            if late
            else min(DUE_DAYS, int(self.rng.triangular(7, 31, 27)))
        )
        return quarter_end(fy, quarter) + timedelta(days=days)

    def report(
        self,
        project: dict[str, Any],
        fy: int,
        quarter: int,
        version: int = 1,
        day: date | None = None,
        preliminary: bool = False,
    ) -> dict[str, Any]:
        """A project's report for one quarter; with ``preliminary``, figures a little lower than the
        confirmed ones a correction (``correction``) gives later."""
        if day is None:
            late = self.rng.random() < (0.15 if self.behind(project) else 0.04)
            day = self.submission_day(fy, quarter, late)
        elapsed = (fy - project["start_fy"]) * 4 + quarter
        total = (project["end_fy"] - project["start_fy"] + 1) * 4
        pace = self.paces[project["project_code"]]
        funding = [dict(line) for line in self.year_plan(project, fy).lines[quarter]]
        kpis = self.kpi_values(project, fy, quarter)
        if preliminary:
            for line in funding:
                if line["stage"] == "executed":
                    line["amount_jpy"] = int(line["amount_jpy"] * self.rng.uniform(0.9, 0.99))
            for kpi in kpis:
                kpi["value"] = self.rounded(kpi["value"] * self.rng.uniform(0.9, 1.0), self.unit_of(project, kpi))
        return {
            **self.envelope(day, project["consortium_code"]),
            "consortium_code": project["consortium_code"],
            "project_code": project["project_code"],
            "period": f"FY{fy}Q{quarter}",
            "version": version,
            "progress": self.progress(fy, quarter, elapsed, total, pace),
            "funding": funding,
            "kpis": kpis,
        }

    @staticmethod
    def unit_of(project: dict[str, Any], value: dict[str, Any]) -> str:
        return str(next(k["unit"] for k in project["kpis"] if k["kpi_code"] == value["kpi_code"]))

    def progress(self, fy: int, quarter: int, elapsed: int, total: int, pace: float) -> dict[str, Any]:
        behind = pace < 0.9
        if behind:
            status = self.rng.choice(("at_risk", "delayed", "delayed"))
            summary = "（合成データ）参画事業者の確保が想定を下回り、一部の取組に遅れ。対応策を協議中。"
        else:
            status = "on_track" if self.rng.random() < 0.9 else "at_risk"
            summary = "（合成データ）計画に沿って事業を実施。"
        planned = quarter_end(fy, quarter) - timedelta(days=20)
        if behind and self.rng.random() < 0.6:
            milestone_status, actual = "delayed", None
        elif self.rng.random() < 0.85:
            milestone_status, actual = "done", (planned + timedelta(days=self.rng.randint(-15, 15))).isoformat()
        else:
            milestone_status, actual = "on_track", None
        return {
            "status": status,
            "percent_complete": min(100.0, round(elapsed * 100 / total * min(pace, 1.1), 1)),
            "summary_ja": summary,
            "milestones": [
                {
                    "milestone_code": f"M{elapsed:02d}",
                    "title_ja": MILESTONES[(elapsed - 1) % len(MILESTONES)],
                    "planned_date": planned.isoformat(),
                    "status": milestone_status,
                    "actual_date": actual,
                }
            ],
        }

    def correction(self, project: dict[str, Any], first: dict[str, Any], fy: int, quarter: int) -> dict[str, Any]:
        """Version 2 of ``first``: the confirmed figures, 3-20 days later (never more than 58 days
        after the quarter, so the latest quarter of the sample is not in the future)."""
        last = quarter_end(fy, quarter) + timedelta(days=DUE_DAYS + 28)
        day = min(last, datetime.fromisoformat(first["submitted_at"]).date() + timedelta(days=self.rng.randint(3, 20)))
        return self.report(project, fy, quarter, version=2, day=day)


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
    # one project-year overspends (see _YearPlan): the first year of a project that starts at once
    starting = [p for p in projects if p["start_fy"] == first_fy and not gen.behind(p)]
    if starting:
        gen.overspend = (gen.rng.choice(starting)["project_code"], first_fy)
    for index in range(quarters):
        fy, quarter = first_fy + index // 4, index % 4 + 1
        for project in projects:
            if not project["start_fy"] <= fy <= project["end_fy"] or gen.is_missing(project, fy, quarter):
                continue
            corrected = gen.rng.random() < 0.1
            report = gen.report(project, fy, quarter, preliminary=corrected)
            sample.reports.append(report)
            if corrected:
                sample.reports.append(gen.correction(project, report, fy, quarter))
            if gen.rng.random() < 0.05:
                sample.reports.append(dict(report))  # re-sent unchanged: same event_id, a no-op
    return sample


def refused_example(sample: SampleSet) -> dict[str, Any]:
    """One more report, well formed, that the lander dead-letters (UnknownCode): a secretariat's
    correction of a third-quarter report that misspells one of its project's KPI codes. Sent signed
    like the rest (``kouiki demo``), only the contract's registry check refuses it."""
    base = next((r for r in sample.reports if r["period"].endswith("Q3") and r["kpis"]), sample.reports[0])
    versions = [
        r["version"]
        for r in sample.reports
        if (r["project_code"], r["period"]) == (base["project_code"], base["period"])
    ]
    registered = {
        k["kpi_code"]
        for d in sample.registry
        if d.get("entity") == "project" and d["project_code"] == base["project_code"]
        for k in d["kpis"]
    }
    doc = copy.deepcopy(base)
    typo = doc["kpis"][0]["kpi_code"][:-1]  # TRAINEES -> TRAINEE
    while typo in registered or not typo:
        typo += "X"
    doc["kpis"][0]["kpi_code"] = typo
    doc.update(
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"kouiki:refused:{base['event_id']}")),
        version=max(versions) + 1,
        submitted_at=(datetime.fromisoformat(base["submitted_at"]) + timedelta(days=3)).isoformat(),
    )
    return doc
