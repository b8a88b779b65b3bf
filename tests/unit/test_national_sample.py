"""The national-scale generator on small datasets: deterministic, contract-valid, lake rows as the lander
lands them. The full national scale is in tests/integration/test_national_scale.py (seconds, not the fast set)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kouiki.contract import check as contract
from kouiki.contract import rules
from kouiki.sample import national


class _SimulationClock:
    """The dataset spans FY2025-FY2034: judge "not in the future" at the simulation's end."""

    @staticmethod
    def time() -> float:
        return national.SIMULATION_END.timestamp()


def test_same_seed_same_documents() -> None:
    first, again = (
        national.generate(seed=5, consortia=3, projects_per_consortium=2),
        national.generate(seed=5, consortia=3, projects_per_consortium=2),
    )
    assert first.registry == again.registry and first.reports == again.reports
    assert first.reports != national.generate(seed=6, consortia=3, projects_per_consortium=2).reports


def test_every_document_passes_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "time", _SimulationClock)  # the contract's clock
    dataset = national.generate(seed=1, consortia=12, projects_per_consortium=3)
    problems = {
        doc.get("project_code", doc.get("consortium_code")): contract.validate(doc) for doc in dataset.documents()
    }
    assert {code: found for code, found in problems.items() if found} == {}


def test_lake_files_hold_contiguous_landed_offsets(tmp_path: Path) -> None:
    dataset = national.generate(seed=2, consortia=2, projects_per_consortium=2)
    files = national.write_to_lake(tmp_path, dataset.documents(), file_rows=50)
    by_partition: dict[Path, list[int]] = {}
    for path in files:
        table = pq.read_table(path)
        assert table.num_rows <= 50
        assert set(table.column("_status").to_pylist()) == {"landed"}
        by_partition.setdefault(path.parent, []).extend(table.column("_offset").to_pylist())
    for offsets in by_partition.values():
        assert sorted(offsets) == list(range(len(offsets)))
    assert sum(map(len, by_partition.values())) == len(dataset.registry) + len(dataset.reports)
