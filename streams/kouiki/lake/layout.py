"""Where the raw lake keeps a partition's batches and how far it has landed, from file names alone.

Standard library only: ``kouiki ingest`` asks this before it imports anything heavy (see
``kouiki.landing.idle``), and the writing side (``kouiki.lake.files``) builds on it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

FILE_PATTERN = re.compile(r"^(\d{12})-(\d{12})\.parquet$")


def topic_dir(raw_dir: Path, topic: str) -> Path:
    return raw_dir / topic


def partition_dir(raw_dir: Path, topic: str, epoch: str, partition: int) -> Path:
    return topic_dir(raw_dir, topic) / f"epoch={epoch}" / f"partition={partition}"


def landed_ranges(folder: Path) -> list[tuple[int, int]]:
    if not folder.is_dir():
        return []
    ranges = []
    for name in os.listdir(folder):
        match = FILE_PATTERN.match(name)
        if match:
            ranges.append((int(match.group(1)), int(match.group(2))))
    return sorted(ranges)


def next_offset(folder: Path) -> int:
    """Where landing resumes: one past the highest landed offset, 0 for an empty folder."""
    ranges = landed_ranges(folder)
    return ranges[-1][1] + 1 if ranges else 0
