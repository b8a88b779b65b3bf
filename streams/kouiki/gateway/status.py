"""What became of each sent document, derived from the lake when asked (nothing to keep in sync):

- ``sent``: acknowledged by the broker, not in the lake yet;
- ``landed``: its offset is in an offset-named file of its partition (the epoch recorded when it was
  sent, else the topic's current one) with ``_status = landed``; ``landed_at`` is the row's
  ``_ingested_at``;
- ``published``: landed, and the serving file was published after that (its modification time);
- ``dead_lettered``: the row's ``_status`` is ``dead_letter``, with its ``_error_class`` and
  ``_error_message``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from kouiki.config import Settings
from kouiki.lake import files as lake

Position = tuple[str, str, int, int]  # topic, epoch, partition, offset


@dataclass(frozen=True)
class LakeRow:
    status: str
    ingested_at: datetime
    error_class: str | None
    error_message: str | None


def lake_rows(settings: Settings, positions: Iterable[Position]) -> dict[Position, LakeRow]:
    """The lake row at each position that has landed; each file read once, only the rows asked for."""
    by_folder: dict[tuple[str, str, int], set[int]] = defaultdict(set)
    for topic, epoch, partition, offset in positions:
        by_folder[(topic, epoch, partition)].add(offset)
    found: dict[Position, LakeRow] = {}
    for (topic, epoch, partition), offsets in by_folder.items():
        folder = lake.partition_dir(settings.raw_dir, topic, epoch, partition)
        ranges = lake.landed_ranges(folder)
        firsts = [first for first, _ in ranges]
        by_file: dict[Path, list[int]] = defaultdict(list)
        for offset in offsets:
            i = bisect.bisect_right(firsts, offset) - 1
            if i >= 0 and ranges[i][0] <= offset <= ranges[i][1]:
                by_file[folder / f"{ranges[i][0]:012d}-{ranges[i][1]:012d}.parquet"].append(offset)
        for path, wanted in by_file.items():
            table = pq.read_table(
                path,
                columns=["_offset", "_status", "_ingested_at", "_error_class", "_error_message"],
                filters=[("_offset", "in", wanted)],
            )
            for row in table.to_pylist():
                found[(topic, epoch, partition, row["_offset"])] = LakeRow(
                    row["_status"], row["_ingested_at"], row["_error_class"], row["_error_message"]
                )
    return found


def published_at(settings: Settings) -> datetime | None:
    try:
        return datetime.fromtimestamp(settings.serving_path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None


def _error(stored: list[str]) -> dict[str, str]:
    """One kept error: ``[path, message, message_ja]`` and, since uploads are located, its location."""
    path, message, message_ja = stored[:3]
    location = stored[3] if len(stored) > 3 else path
    return {"path": path, "location": location, "message": message, "message_ja": message_ja}


def track(
    settings: Settings, documents: list[dict[str, Any]], current_epochs: Callable[[], dict[str, str]]
) -> list[dict[str, Any]]:
    """``documents`` (rows of ``gateway_documents`` as dicts) with their status now."""
    sent = [d for d in documents if d["status"] == "sent"]
    missing_epoch = any(d["epoch"] is None for d in sent)
    epochs = current_epochs() if missing_epoch else {}
    for d in sent:
        d["epoch"] = d["epoch"] or epochs.get(d["topic"])
    rows = lake_rows(settings, [(d["topic"], d["epoch"], d["partition"], d["offset"]) for d in sent if d["epoch"]])
    serving = published_at(settings)
    out = []
    for d in documents:
        view: dict[str, Any] = {
            "record": d["record"],
            "line": d["line"],
            "kind": d["kind"],
            "consortium_code": d["consortium_code"],
            "project_code": d.get("project_code"),
            "period": d.get("period"),
            "event_id": d["event_id"],
            "status": d["status"],
            "errors": [_error(e) for e in d["errors"]],
            "receipt": None,
        }
        if d["status"] == "sent":
            view["receipt"] = {
                "event_id": d["event_id"],
                "topic": d["topic"],
                "partition": d["partition"],
                "offset": d["offset"],
                "epoch": d["epoch"],
            }
            row = rows.get((d["topic"], d["epoch"], d["partition"], d["offset"]))
            if row is not None:
                view["landed_at"] = row.ingested_at.isoformat()
                if row.status == lake.DEAD_LETTER:
                    view["status"] = "dead_lettered"
                    view["dead_letter"] = {"error_class": row.error_class, "error_message": row.error_message}
                elif serving is not None and serving > row.ingested_at:
                    view["status"] = "published"
                    view["published_at"] = serving.isoformat()
                else:
                    view["status"] = "landed"
        out.append(view)
    return out
