"""The stuck-partition state (run/stuck_partitions.json) and the raw batch split of ``kouiki quarantine``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kafka.record.default_records import DefaultRecordBatchBuilder

from kouiki.config import Settings
from kouiki.landing import stuck
from kouiki.landing.quarantine import QuarantineError, split_batches


def entry(offset: int, seen: str, partition: int = 1) -> stuck.StuckPartition:
    return stuck.StuckPartition("kouiki.reports.v1", "e1", partition, offset, "CorruptRecordError", "crc", seen, seen)


def test_an_entry_keeps_when_it_was_first_seen_and_goes_once_the_partition_lands(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert stuck.load(settings) == []
    stuck.update(settings, [entry(5, "2026-12-01T10:00:00+00:00")], [])
    stuck.update(settings, [entry(5, "2026-12-01T11:00:00+00:00"), entry(9, "2026-12-01T11:00:00+00:00", 2)], [])
    (first, second) = stuck.load(settings)
    assert (first.offset, first.first_seen, first.last_seen) == (
        5,
        "2026-12-01T10:00:00+00:00",
        "2026-12-01T11:00:00+00:00",
    )
    assert second.partition == 2
    stuck.update(settings, [], [("kouiki.reports.v1", "e1", 1)])  # partition 1 landed; 2 not in this run
    assert [e.partition for e in stuck.load(settings)] == [2]
    stuck.update(settings, [], [("kouiki.reports.v1", "e1", 2)])
    assert json.loads(stuck.state_path(settings).read_text(encoding="utf-8")) == []


def test_a_new_offset_starts_a_new_first_seen(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    stuck.update(settings, [entry(5, "2026-12-01T10:00:00+00:00")], [])
    stuck.update(settings, [entry(8, "2026-12-01T12:00:00+00:00")], [])
    (only,) = stuck.load(settings)
    assert (only.offset, only.first_seen) == (8, "2026-12-01T12:00:00+00:00")


def built(base: int, count: int) -> bytes:
    builder = DefaultRecordBatchBuilder(2, 0, False, -1, -1, -1, 1 << 20)
    for i in range(count):
        builder.append(i, int(time.time() * 1000), b"k", b"v%d" % i, [])
    data = bytearray(builder.build())
    data[0:8] = base.to_bytes(8, "big")  # the broker assigns the base offset
    return bytes(data)


def test_batches_are_split_by_their_headers_alone() -> None:
    first, second = built(10, 3), built(13, 2)
    corrupt = bytearray(second)
    corrupt[-1] ^= 0xFF  # a payload byte: its header still says where it ends
    batches = split_batches(first + bytes(corrupt) + built(15, 4)[:30])  # then a partial batch
    assert [(b.base_offset, b.last_offset) for b in batches] == [(10, 12), (13, 14)]
    assert batches[1].data == bytes(corrupt)


def test_an_old_message_format_is_refused() -> None:
    old = bytearray(built(0, 1))
    old[16] = 1  # magic
    with pytest.raises(QuarantineError, match="magic 1"):
        split_batches(bytes(old))
