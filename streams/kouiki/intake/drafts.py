"""Documents assembled from sheet rows (Excel or CSV), remembering which cell every JSON path came
from. A finished draft becomes a ``Record``: the document with its envelope, or one error record per
cell that could not be read (such a document is never checked or sent).

The event_id is derived from the document's content, so submitting the same sheet twice is the same
event (a no-op for the lander)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kouiki.contract.messages import Violation
from kouiki.intake.files import Record
from kouiki.intake.sheet_rows import Problem, Row

NAMESPACE = uuid.UUID("6b6f7569-6b69-4000-8000-00000000c5f0")
JST = timezone(timedelta(hours=9))


@dataclass
class Draft:
    doc: dict[str, Any]
    first: str  # where the document starts (its first row)
    line: int
    cells: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # belonging to no field: error records
    unreadable: list[Violation] = field(default_factory=list)  # cells that could not be read
    filled: bool = False  # whether a secretariat filled anything of it (else it is not a document)
    _seen: dict[int, Problem] = field(default_factory=dict)  # problems of every row read into it
    _placed: set[int] = field(default_factory=set)  # those that became ``unreadable``

    def fields(self, path: str, target: dict[str, Any], row: Row, keys: tuple[str, ...]) -> None:
        """Copy ``keys`` of ``row`` into ``target`` (the object at ``path``), each located, with the
        problems of those cells."""
        for key in keys:
            if key in row.values:
                target[key] = row.values[key]
            if key in row.places:
                self.cells[f"{path}.{key}"] = row.places[key]
        for problem in row.problems:
            self._seen.setdefault(id(problem), problem)
            if problem.key in keys and id(problem) not in self._placed:
                self._placed.add(id(problem))
                self.unreadable.append(Violation(f"{path}.{problem.key}", problem.en, problem.ja))

    def item(self, section: str, row: Row, keys: tuple[str, ...]) -> None:
        """Append ``row`` to the list at ``section`` (``funding``, ``kpis``, ``progress.milestones``)."""
        *parents, name = section.split(".")
        target = self.doc
        for parent in parents:
            target = target[parent]
        items = target.setdefault(name, [])
        path = f"$.{section}[{len(items)}]"
        item: dict[str, Any] = {}
        self.cells[path] = row.first
        self.fields(path, item, row, keys)
        items.append(item)

    def records(self, file: Path, index: int, submitted_by: str) -> list[Record]:
        unplaced = self.problems + [p for i, p in self._seen.items() if i not in self._placed]
        if unplaced:
            return [Record(file, index, self.line, None, p.en, p.ja, place=p.place) for p in unplaced]
        self.cells["$"] = self.first
        raw = json.dumps(enveloped(self.doc, submitted_by), ensure_ascii=False).encode("utf-8")
        return [
            Record(file, index, self.line, raw, place=self.first, cells=self.cells, problems=tuple(self.unreadable))
        ]


def enveloped(doc: dict[str, Any], submitted_by: str) -> dict[str, Any]:
    """``doc`` with the contract's envelope; the event_id is a digest of the content."""
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    envelope = {
        "schema_version": "1.0",
        "event_id": str(uuid.uuid5(NAMESPACE, digest)),
        "submitted_at": datetime.now(JST).replace(microsecond=0).isoformat(),
        "submitted_by": submitted_by,
    }
    return envelope | doc


def problem_records(file: Path, problems: list[Problem]) -> list[Record]:
    """Problems that belong to no document (a header, a line of an unknown project)."""
    return [Record(file, 1, 1, None, p.en, p.ja, place=p.place) for p in problems]
