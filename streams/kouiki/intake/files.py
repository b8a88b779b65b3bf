"""Read contract documents from JSON and JSON Lines files, keeping where every record came from so
errors can name the file, the record and the line. JSON Lines records stay as their original bytes
(they are checked and sent as they are); JSON files are parsed and each document re-serialised.

``Record`` is what every reader (JSON, CSV, Excel) produces: sheets also say which cell each JSON
path came from, so a contract error names the cell to correct."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kouiki.contract.messages import Violation
from kouiki.contract.strict_json import loads

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
WORKBOOK_SUFFIXES = (".xlsx",)
SUFFIXES = JSON_SUFFIXES + CSV_SUFFIXES + WORKBOOK_SUFFIXES


@dataclass(frozen=True)
class Record:
    """One document from a file: its bytes, or why the file could not be split into documents."""

    file: Path
    index: int  # 1-based record number within the file
    line: int  # 1-based line where the record starts
    raw: bytes | None
    error: str | None = None
    error_ja: str | None = None
    place: str = ""  # where in the file, when not a record and line (a sheet's cell)
    cells: Mapping[str, str] = field(default_factory=dict)  # JSON path -> where its value was read
    problems: tuple[Violation, ...] = ()  # values the reader could not read, located by JSON path

    @property
    def where(self) -> str:
        return f"{self.file}: {self.place}" if self.place else f"{self.file}: record {self.index} (line {self.line})"

    def violations(self, checked: Iterable[Violation]) -> list[Violation]:
        """The reader's own problems, then the contract's verdict on the rest: a value the reader
        could not read is kept as written, so the contract's complaint about it is left out."""
        if not self.problems:
            return list(checked)
        own = {v.path for v in self.problems}
        return [*self.problems, *(v for v in checked if not _under(v.path, own))]

    def where_of(self, path: str) -> str:
        """Where the value at JSON ``path`` came from: the location of the longest recorded path that
        is ``path`` or holds it (``$.funding[1]`` holds ``$.funding[1].amount_jpy``), else the record's."""
        while path:
            if path in self.cells:
                return f"{self.file}: {self.cells[path]}"
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.where


def _under(path: str, paths: set[str]) -> bool:
    """Whether ``path`` is one of ``paths`` or inside one of them."""
    return any(path == p or path.startswith((p + ".", p + "[")) for p in paths)


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders expanded to the JSON / JSONL / CSV / XLSX files they contain (sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES))
        else:
            out.append(path)
    return out


def _file_error(path: Path, line: int, en: str, ja: str) -> Record:
    return Record(path, 1, line, None, en, ja)


def read_records(path: Path) -> Iterator[Record]:
    """Records of one file: a JSON object, a JSON array of objects, or one object per line."""
    return records_of(path, path.read_bytes())


def records_of(path: Path, raw: bytes) -> Iterator[Record]:
    """:func:`read_records` of bytes already in memory (a request body), named ``path`` in locations;
    its suffix says whether they are JSON Lines."""
    if raw.startswith(b"\xef\xbb\xbf"):
        yield _file_error(
            path,
            1,
            "file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM",
            "ファイル先頭にBOMがあります。BOMなしのUTF-8で保存してください",
        )
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        yield _file_error(
            path,
            line,
            f"not UTF-8 (byte {exc.start}, line {line}); save the file as UTF-8",
            "UTF-8 ではありません（Shift_JIS などは使えません）。UTF-8で保存してください",
        )
        return
    records = list(_json_lines(path, raw) if path.suffix in (".jsonl", ".ndjson") else _json_document(path, text))
    if not records:
        records = [_file_error(path, 1, "the file holds no documents", "文書が1件も含まれていません")]
    yield from records


def _json_lines(path: Path, raw: bytes) -> Iterator[Record]:
    index = 0
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        index += 1
        yield Record(path, index, number, line.rstrip(b"\r"))


def _json_document(path: Path, text: str) -> Iterator[Record]:
    try:
        doc = loads(text)
    except (ValueError, RecursionError) as exc:
        yield _file_error(path, getattr(exc, "lineno", 1), f"invalid JSON: {exc}", "JSONとして読めません")
        return
    items = doc if isinstance(doc, list) else [doc]
    for index, item in enumerate(items, start=1):
        yield Record(path, index, 1, json.dumps(item, ensure_ascii=False).encode("utf-8"))
