"""Stuck partitions: those the lander cannot read past, kept in ``<data_dir>/run/stuck_partitions.json``.

A partition whose record batch cannot be read (CRC mismatch, unknown codec, undecodable bytes)
stops only itself (``partition_worker.PartitionReader``). Each ``kouiki ingest`` records it here with the
first offset not landed and the error, keeping ``first_seen`` across runs, and removes the entry
once the partition lands to its end again (after ``kouiki quarantine`` moved it past the batch).
The file is one JSON array, replaced atomically, so ``kouiki status`` and dbt (DuckDB
``read_json``) read it whole; it always exists after an ingest run, as ``[]`` when nothing is stuck.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kouiki.config import Settings

if TYPE_CHECKING:  # the idle check reads this state without loading the lander (kafka-python)
    from kouiki.landing.partition_worker import Stuck


@dataclass(frozen=True)
class StuckPartition:
    topic: str
    epoch: str
    partition: int
    offset: int  # the first offset not landed: the bad batch's base offset
    error_class: str
    error_message: str
    first_seen: str  # ISO 8601, UTC
    last_seen: str

    @classmethod
    def of(cls, found: Stuck) -> StuckPartition:
        """The entry for a partition found stuck just now."""
        seen = now()
        return cls(
            found.topic, found.epoch, found.partition, found.offset, found.error_class, found.error_message, seen, seen
        )

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.topic, self.epoch, self.partition)

    def describe(self) -> str:
        """One line in Japanese and English, for the command line, logs and alerts."""
        return (
            f"{self.topic}[{self.partition}] (epoch {self.epoch[:12]}) はオフセット {self.offset} から読めず取り込みが"
            f"止まっています / is stuck at offset {self.offset}: {self.error_class}: {self.error_message}"
        )


def alert_message(entries: Iterable[StuckPartition]) -> str:
    """The alert for a run that left partitions stuck: each one, and what to do."""
    lines = [e.describe() for e in entries]
    return (
        f"{len(lines)} partition(s) stuck, every other partition landed / 取り込みが止まったパーティション "
        f"{len(lines)} 件 (他は取り込み済み): " + "; ".join(lines) + " — see `kouiki status`, then `kouiki quarantine`"
    )


def state_path(settings: Settings) -> Path:
    return settings.run_dir / "stuck_partitions.json"


def load(settings: Settings) -> list[StuckPartition]:
    path = state_path(settings)
    if not path.exists():
        return []
    return [StuckPartition(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]


def update(
    settings: Settings,
    found: Iterable[StuckPartition],
    landed: Iterable[tuple[str, str, int]],
) -> list[StuckPartition]:
    """Record the partitions ``found`` stuck in this run (keeping when each was first seen at the same
    offset) and clear those that ``landed`` to their end; other entries stay as they were."""
    entries = {e.key: e for e in load(settings)}
    for key in landed:
        entries.pop(key, None)
    for new in found:
        old = entries.get(new.key)
        if old is not None and old.offset == new.offset:
            new = StuckPartition(**{**asdict(new), "first_seen": old.first_seen})
        entries[new.key] = new
    ordered = sorted(entries.values(), key=lambda e: e.key)
    _write(state_path(settings), [asdict(e) for e in ordered])
    return ordered


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
