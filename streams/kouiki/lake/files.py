"""The raw lake: Parquet files named by the Kafka offset range they hold (the S3-sink pattern).

Layout: ``lake/raw/<topic>/epoch=<topic id>/partition=<p>/<first>-<last>.parquet``. A file is
written under a temporary name, fsynced and renamed, so a file either exists whole or not at all,
and the highest landed offset in the folder is the only resume position there is: a crash between
writing and anything else can neither lose nor duplicate an event. An epoch is one incarnation of
a topic's log: a broker restart or a recreated topic starts offsets at 0 again under a new epoch.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# The layout lives in layout.py (standard library only); writers and readers reach it through here.
from kouiki.lake.layout import FILE_PATTERN as FILE_PATTERN
from kouiki.lake.layout import landed_ranges as landed_ranges
from kouiki.lake.layout import next_offset as next_offset
from kouiki.lake.layout import partition_dir as partition_dir
from kouiki.lake.layout import topic_dir as topic_dir

LANDED = "landed"
DEAD_LETTER = "dead_letter"

SCHEMA = pa.schema(
    [
        ("_topic", pa.string()),
        ("_epoch", pa.string()),
        ("_partition", pa.int32()),
        ("_offset", pa.int64()),
        ("_kafka_ts", pa.timestamp("ms", tz="UTC")),
        ("_key", pa.string()),
        ("_value", pa.binary()),
        ("_ingested_at", pa.timestamp("us", tz="UTC")),
        ("_status", pa.string()),  # LANDED or DEAD_LETTER
        ("_error_class", pa.string()),
        ("_error_message", pa.string()),
    ]
)
_DICTIONARY_COLUMNS = ["_topic", "_epoch", "_partition", "_key", "_status", "_error_class", "_error_message"]


@dataclass(frozen=True)
class Row:
    """One lake row, for writers that do not read from Kafka (benchmarks, tests)."""

    topic: str
    epoch: str
    partition: int
    offset: int
    kafka_ts: datetime
    key: str | None
    value: bytes
    ingested_at: datetime
    status: str
    error_class: str | None = None
    error_message: str | None = None


def write_columns(
    folder: Path, topic: str, epoch: str, partition: int, columns: dict[str, list[Any]], ingested_at: datetime
) -> Path:
    """Write one batch atomically as ``<first>-<last>.parquet``. ``columns`` holds the per-record
    columns (``_offset``, ``_kafka_ts`` in ms, ``_key`` bytes, ``_value``, ``_status``,
    ``_error_class``, ``_error_message``) for contiguous offsets of one partition."""
    return commit(write_pending(folder, topic, epoch, partition, columns, ingested_at))


def write_pending(
    folder: Path, topic: str, epoch: str, partition: int, columns: dict[str, list[Any]], ingested_at: datetime
) -> Path:
    """Write a batch under its temporary name; ``commit`` puts it in place."""
    offsets = columns["_offset"]
    first, last = offsets[0], offsets[-1]
    n = len(offsets)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{first:012d}-{last:012d}.parquet"
    tmp = folder / f".{final.name}.tmp"
    arrays = {
        "_topic": pa.repeat(pa.scalar(topic, pa.string()), n),
        "_epoch": pa.repeat(pa.scalar(epoch, pa.string()), n),
        "_partition": pa.repeat(pa.scalar(partition, pa.int32()), n),
        "_offset": pa.array(offsets, pa.int64()),
        "_kafka_ts": pa.array(columns["_kafka_ts"], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        "_key": pa.array(columns["_key"], pa.binary()).cast(pa.string()),
        "_value": pa.array(columns["_value"], pa.binary()),
        "_ingested_at": pa.repeat(pa.scalar(ingested_at, pa.timestamp("us", tz="UTC")), n),
        "_status": pa.array(columns["_status"], pa.string()),
        "_error_class": pa.array(columns["_error_class"], pa.string()),
        "_error_message": pa.array(columns["_error_message"], pa.string()),
    }
    # Dictionary pages pay off only for the columns that repeat; trying them on every distinct value
    # (the documents, the offsets) costs time and saves nothing.
    pq.write_table(pa.table(arrays, schema=SCHEMA), tmp, compression="zstd", use_dictionary=_DICTIONARY_COLUMNS)
    return tmp


def commit(tmp: Path, pause_before_rename_ms: int = 0) -> Path:
    """fsync a pending batch file and rename it to its final, offset-named name.
    ``pause_before_rename_ms`` widens the window between writing and renaming, so fault-injection
    tests can SIGKILL the lander inside it (KOUIKI_FAULT_PAUSE_BEFORE_RENAME_MS; 0 in operation)."""
    final = tmp.with_name(tmp.name.removeprefix(".").removesuffix(".tmp"))
    if pause_before_rename_ms:
        time.sleep(pause_before_rename_ms / 1000)
    _fsync(tmp)
    os.replace(tmp, final)
    _fsync(tmp.parent)
    return final


def write_batch(folder: Path, rows: list[Row]) -> Path:
    """``write_columns`` for a list of rows of one partition."""
    first = rows[0]
    columns: dict[str, list[Any]] = {
        "_offset": [r.offset for r in rows],
        "_kafka_ts": [int(r.kafka_ts.timestamp() * 1000) for r in rows],
        "_key": [r.key.encode() if r.key is not None else None for r in rows],
        "_value": [r.value for r in rows],
        "_status": [r.status for r in rows],
        "_error_class": [r.error_class for r in rows],
        "_error_message": [r.error_message for r in rows],
    }
    return write_columns(folder, first.topic, first.epoch, first.partition, columns, first.ingested_at)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_partial_files(folder: Path) -> None:
    """Temporary files left by a crash mid-write are garbage: the batch will be landed again."""
    if folder.is_dir():
        for name in os.listdir(folder):
            if name.startswith(".") and name.endswith(".tmp"):
                (folder / name).unlink(missing_ok=True)
