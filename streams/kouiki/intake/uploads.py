"""One entry point for every channel (``kouiki submit``, the REST API, the portal): the documents of
an uploaded file, read by the reader its name's suffix calls for."""

from __future__ import annotations

from pathlib import Path

from kouiki.intake import csv_sheets, files
from kouiki.intake.files import Record


def read_upload(name: str, raw: bytes, submitted_by: str, *, max_unpacked: int) -> list[Record]:
    """The file's Records (documents, or located errors); ``submitted_by`` goes into sheets' envelopes
    (JSON documents carry their own); ``max_unpacked`` bounds what an .xlsx may unpack to."""
    path = Path(name)
    suffix = path.suffix.lower()
    if suffix in files.WORKBOOK_SUFFIXES:
        from kouiki.intake import workbook  # openpyxl: loaded only for a workbook

        return workbook.read_workbook(name, raw, submitted_by, max_unpacked=max_unpacked)
    if suffix in files.CSV_SUFFIXES:
        return list(csv_sheets.records_of(path, raw, submitted_by))
    if suffix in files.JSON_SUFFIXES:
        return list(files.records_of(path, raw))
    return [
        Record(
            path,
            1,
            1,
            None,
            f"{suffix or 'this'} files are not supported; save the workbook as .xlsx (or send .csv, .json, .jsonl)",
            f"{suffix or 'この形式の'} ファイルは受け付けていません。"
            "Excel ブック（.xlsx）で保存してください（.csv・.json・.jsonl も可）",
        )
    ]
