"""Read contract documents from JSON and JSON Lines files, keeping the location of every record so
errors can name the file, the record and the line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


@dataclass(frozen=True)
class Record:
    """One document from a file. ``doc`` is None when the text could not be parsed (see ``error``)."""

    file: Path
    index: int  # 1-based record number within the file
    line: int  # 1-based line where the record starts
    doc: Any
    error: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}: record {self.index} (line {self.line})"


class DuplicateKeyError(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(f"duplicate key {key!r}")
        out[key] = value
    return out


def loads(text: str) -> Any:
    """Strict JSON: duplicate keys and NaN/Infinity are errors, not silently accepted."""
    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=reject_constant)


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders expanded to the JSON / JSONL files they contain (sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in JSON_SUFFIXES))
        else:
            out.append(path)
    return out


def read_records(path: Path) -> Iterator[Record]:
    """Records of one file: a JSON object, a JSON array of objects, or one object per line."""
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        yield Record(path, 1, 1, None, "file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM")
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        yield Record(path, 1, line, None, f"not UTF-8 (byte {exc.start}, line {line}); "
                                          "save the file as UTF-8 (Shift_JIS is not accepted)")
        return
    if path.suffix in (".jsonl", ".ndjson"):
        yield from _json_lines(path, text)
    else:
        yield from _json_document(path, text)


def _json_lines(path: Path, text: str) -> Iterator[Record]:
    index = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        index += 1
        try:
            yield Record(path, index, number, loads(line))
        except (ValueError, RecursionError) as exc:
            yield Record(path, index, number, None, f"invalid JSON: {exc}")


def _json_document(path: Path, text: str) -> Iterator[Record]:
    try:
        doc = loads(text)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", 1)
        yield Record(path, 1, line, None, f"invalid JSON: {exc}")
        return
    if isinstance(doc, list):
        for index, item in enumerate(doc, start=1):
            yield Record(path, index, 1, item)
    else:
        yield Record(path, 1, 1, doc)
