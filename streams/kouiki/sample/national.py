"""A national-scale synthetic dataset for warehouse benchmarks, deterministic for a seed.

200 consortia with 10 projects each report every fiscal quarter of FY2025-FY2034: about 80,000
reports and a million funding and KPI lines. The documents are built with the sample generator's
building blocks, so they behave as the sample does (funding planned, committed and executed in that
order, one project-year overspending; three KPIs per project fitting its theme, moving toward their
targets at each project's pace), and written straight into the raw lake as the lander would land them (``_status =
'landed'``, contiguous offsets per partition, one Parquet file per 5,000 rows), bypassing Kafka.

The dataset simulates ten years, so most ``submitted_at`` lie in the future of today's clock; the
contract's "not in the future" rule holds at the simulated end (``SIMULATION_END``).
Realistic irregularities: about 2 % of quarters are never reported, some reports are corrected by a
second version, some filed late (late and missing more often by projects behind), 5 % of projects change their
areas by re-registration in FY2028.
"""

from __future__ import annotations

import argparse
import gc
import json
import typing
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kouiki.contract.check import kind_of
from kouiki.contract.model import Project
from kouiki.lake import files as lake
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC, TOPIC_PARTITIONS, key_for, topic_for
from kouiki.sample.generator import _Generator, is_whole, split

FIRST_FY, LAST_FY = 2025, 2034
SIMULATION_END = datetime(2035, 6, 30, tzinfo=UTC)
EPOCH = "national"
BY_PREFECTURE = 0.5  # the share of sum-KPIs a project reports per prefecture
FILE_ROWS = 5000
THEMES = typing.get_args(typing.get_type_hints(Project)["theme"])  # the contract's themes, in its order
POLICIES = (
    "P1.01.i",
    "P1.06.i",
    "P1.06.ii",
    "P1.08.i",
    "P2.01.i",
    "P2.01.ii",
    "P2.01.iv.RE",
    "P2.02.viii",
    "P2.03.ii",
    "P3.04.i",
    "P4.01.ii",
    "P4.02.ii",
    "P5.01",
    "P5.03",
    "G1.A.g",
    "G2.C.i",
    "G3.E.r",
)
# Region blocks (see dbt seeds/prefectures.csv); consortia mostly form inside a block and its neighbours.
BLOCKS = {
    "TOH": ["02", "03", "04", "05", "06", "07", "15"],
    "SHU": ["08", "09", "10", "11", "12", "13", "14", "19"],
    "HKR": ["16", "17", "18"],
    "CBU": ["20", "21", "22", "23", "24"],
    "KNK": ["25", "26", "27", "28", "29", "30"],
    "CGK": ["31", "32", "33", "34", "35"],
    "SKK": ["36", "37", "38", "39"],
    "KYS": ["40", "41", "42", "43", "44", "45", "46"],
}


class _NationalGenerator(_Generator):
    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self._by_prefecture: dict[tuple[str, str], bool] = {}

    def spec(self, index: int) -> dict[str, Any]:
        """Consortium spec in the shape of consortia.json: 2-6 prefectures, or Hokkaido / Okinawa alone."""
        if index % 50 in (0, 1):
            block, prefs = ("HKD", ["01"]) if index % 50 == 0 else ("OKN", ["47"])
        else:
            block = sorted(BLOCKS)[index % len(BLOCKS)]
            pool = BLOCKS[block] + (self.rng.choice(list(BLOCKS.values()))[:1] if self.rng.random() < 0.2 else [])
            prefs = sorted(set(self.rng.sample(pool, min(len(pool), self.rng.randint(2, 6)))))
        code = f"KR-{block}{index // 100}-{index % 100:02d}"
        themes = self.rng.sample(THEMES, 3)
        return {
            "code": code,
            "name_ja": f"広域リージョン連携 第{index + 1}号（{block}）",
            "name_en": f"Wide-area region {index + 1} ({block})",
            "prefectures": prefs,
            "themes": themes,
            "policy": self.rng.choice(POLICIES),
        }

    def national_project(self, spec: dict[str, Any], number: int) -> dict[str, Any]:
        """A project of the spec's themes over FY2025 (or FY2026) to FY2034 with three of its theme's KPIs."""
        start = self.rng.choice((2025, 2025, 2025, 2026))
        return self.project(
            spec, number, start_fy=start, end_fy=LAST_FY, policy_code=self.rng.choice(POLICIES), kpi_count=3
        )

    def reregistered(self, project: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        """The same project with new areas, registered at the start of FY2028."""
        prefs = spec["prefectures"]
        chosen = sorted(self.rng.sample(prefs, min(len(prefs), self.rng.randint(1, 4))))
        doc = dict(project)
        doc.update(self.envelope(date(2028, 4, 1), spec["code"]))
        doc["areas"] = [{"pref_code": p, "share": s} for p, s in zip(chosen, self.shares(len(chosen)), strict=True)]
        return doc

    def reported_by_prefecture(self, project_code: str, kpi_code: str) -> bool:
        key = (project_code, kpi_code)
        if key not in self._by_prefecture:
            self._by_prefecture[key] = self.sub("by_pref", *key).random() < BY_PREFECTURE
        return self._by_prefecture[key]

    def by_prefecture(self, project: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
        """Half the sum-KPIs of the projects are reported per prefecture of their areas (the parts add up
        to the project's value); the rest, and every level, at project level."""
        values: list[dict[str, Any]] = []
        kpis = {k["kpi_code"]: k for k in project["kpis"]}
        areas = project["areas"]
        for entry in report["kpis"]:
            kpi = kpis[entry["kpi_code"]]
            if kpi["aggregation"] != "sum" or not self.reported_by_prefecture(project["project_code"], kpi["kpi_code"]):
                values.append(entry)
                continue
            shares = [a["share"] for a in areas]
            if is_whole(kpi["unit"]):
                parts = [float(p) for p in split(int(entry["value"]), shares)]
            else:
                parts = [round(entry["value"] * share, 1) for share in shares]
            values.extend(
                {"kpi_code": kpi["kpi_code"], "value": part, "pref_code": area["pref_code"]}
                for area, part in zip(areas, parts, strict=True)
            )
        report["kpis"] = values
        return report


@dataclass
class NationalSet:
    registry: list[dict[str, Any]]
    reports: list[dict[str, Any]]

    def documents(self) -> Iterator[dict[str, Any]]:
        yield from self.registry
        yield from self.reports


def generate(seed: int = 2034, consortia: int = 200, projects_per_consortium: int = 10) -> NationalSet:
    # millions of small dicts and no reference cycles: the cyclic collector would only rescan them
    paused = gc.isenabled()
    gc.disable()
    try:
        return _generate(_NationalGenerator(seed), consortia, projects_per_consortium)
    finally:
        if paused:
            gc.enable()


def _generate(gen: _NationalGenerator, consortia: int, projects_per_consortium: int) -> NationalSet:
    registry: list[dict[str, Any]] = []
    projects: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for index in range(consortia):
        spec = gen.spec(index)
        registry.append(gen.consortium(spec))
        for number in range(1, projects_per_consortium + 1):
            project = gen.national_project(spec, number)
            projects.append((spec, project))
            registry.append(project)
    # one project-year overspends, as in the sample (generator._YearPlan)
    starting = [p for _spec, p in projects if p["start_fy"] == FIRST_FY and not gen.behind(p)]
    if starting:
        gen.overspend = (gen.rng.choice(starting)["project_code"], FIRST_FY)
    reregistrations = []
    reports: list[dict[str, Any]] = []
    for spec, project in projects:
        current = project
        for fy in range(project["start_fy"], LAST_FY + 1):
            if fy == 2028 and gen.rng.random() < 0.05:
                current = gen.reregistered(project, spec)
                reregistrations.append(current)
            for quarter in (1, 2, 3, 4):
                if gen.is_missing(current, fy, quarter):
                    continue  # never reported: shows up as missing
                corrected = gen.rng.random() < 0.05
                report = gen.by_prefecture(current, gen.report(current, fy, quarter, preliminary=corrected))
                reports.append(report)
                if corrected:
                    reports.append(gen.by_prefecture(current, gen.correction(current, report, fy, quarter)))
    return NationalSet(registry + reregistrations, reports)


def lake_rows(
    documents: Iterable[dict[str, Any]], epoch: str = EPOCH, ingested_at: datetime | None = None
) -> dict[tuple[str, int], list[lake.Row]]:
    """Rows per (topic, partition) as the lander would land them: keyed by the natural code, offsets
    contiguous from 0 in document order."""
    landed_at = ingested_at or datetime.now(UTC)
    rows: dict[tuple[str, int], list[lake.Row]] = {}
    for doc in documents:
        topic, key = topic_for(kind_of(doc)), key_for(doc)
        partition = zlib.crc32(key.encode()) % TOPIC_PARTITIONS[topic]
        batch = rows.setdefault((topic, partition), [])
        batch.append(
            lake.Row(
                topic=topic,
                epoch=epoch,
                partition=partition,
                offset=len(batch),
                kafka_ts=datetime.fromisoformat(doc["submitted_at"]).astimezone(UTC),
                key=key,
                value=json.dumps(doc, ensure_ascii=False).encode("utf-8"),
                ingested_at=landed_at,
                status="landed",
            )
        )
    return rows


def write_to_lake(
    raw_dir: Path,
    documents: Iterable[dict[str, Any]],
    epoch: str = EPOCH,
    file_rows: int = FILE_ROWS,
    ingested_at: datetime | None = None,
) -> list[Path]:
    """Write documents into ``raw_dir`` as landed Parquet files of at most ``file_rows`` rows."""
    files = []
    for (topic, partition), rows in sorted(lake_rows(documents, epoch, ingested_at).items()):
        folder = lake.partition_dir(raw_dir, topic, epoch, partition)
        for start in range(0, len(rows), file_rows):
            files.append(lake.write_batch(folder, rows[start : start + file_rows]))
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path, help="the lake's raw folder, e.g. data/lake/raw")
    parser.add_argument("--seed", type=int, default=2034)
    args = parser.parse_args(argv)
    dataset = generate(seed=args.seed)
    files = write_to_lake(args.raw_dir, dataset.documents())
    print(
        f"wrote {len(dataset.registry)} registry and {len(dataset.reports)} report events "
        f"in {len(files)} files under {args.raw_dir} ({REGISTRY_TOPIC}, {REPORTS_TOPIC})"
    )


if __name__ == "__main__":
    main()
