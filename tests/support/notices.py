"""Documents for notice tests, landed into a real raw lake the way the lander writes it
(``lake.files.write_batch``: offset-named Parquet files with ``_status`` and the error columns)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kouiki.config import Settings
from kouiki.lake import files as lake
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC

EPOCH = "test"


def project(code: str, start_fy: int, end_fy: int, submitted_at: str = "2026-04-01T09:00:00+09:00") -> dict[str, Any]:
    """A project registration that passes the contract."""
    return {
        "schema_version": "1.0",
        "event_id": str(uuid.uuid4()),
        "submitted_at": submitted_at,
        "submitted_by": "jimukyoku@example.jp",
        "entity": "project",
        "project_code": code,
        "consortium_code": code.rsplit("-", 1)[0],
        "title_ja": "観光周遊促進事業",
        "theme": "TOURISM",
        "policy_code": "P1.01.i",
        "start_fy": start_fy,
        "end_fy": end_fy,
        "planned_budget_jpy": 10_000_000,
        "areas": [{"pref_code": "04", "share": 1.0}],
        "kpis": [],
    }


def report(project_code: str, period: str, event_id: str | None = None) -> dict[str, Any]:
    """A quarterly report that passes the contract."""
    return {
        "schema_version": "1.0",
        "event_id": event_id or str(uuid.uuid4()),
        "submitted_at": "2026-10-20T09:00:00+09:00",
        "submitted_by": "jimukyoku@example.jp",
        "consortium_code": project_code.rsplit("-", 1)[0],
        "project_code": project_code,
        "period": period,
        "version": 1,
        "progress": {"status": "on_track", "percent_complete": 50.0},
        "funding": [],
        "kpis": [],
    }


def encoded(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


@dataclass
class Lake:
    """Appends batches to partition 0 of each topic, offsets continuing where the last file ended."""

    settings: Settings
    next_offsets: dict[str, int] = field(default_factory=dict)

    def land(
        self,
        topic: str,
        values: list[bytes | dict[str, Any]],
        at: datetime,
        *,
        dead: tuple[str, str] | None = None,
    ) -> list[int]:
        """One file of ``values`` ingested ``at``: landed, or dead-lettered as ``(error_class, message)``.
        Returns their offsets."""
        first = self.next_offsets.get(topic, 0)
        rows = [
            lake.Row(
                topic=topic,
                epoch=EPOCH,
                partition=0,
                offset=first + i,
                kafka_ts=at,
                key=None,
                value=v if isinstance(v, bytes) else encoded(v),
                ingested_at=at,
                status=lake.DEAD_LETTER if dead else lake.LANDED,
                error_class=dead[0] if dead else None,
                error_message=dead[1] if dead else None,
            )
            for i, v in enumerate(values)
        ]
        lake.write_batch(lake.partition_dir(self.settings.raw_dir, topic, EPOCH, 0), rows)
        self.next_offsets[topic] = first + len(values)
        return [r.offset for r in rows]

    def register(self, *docs: dict[str, Any], at: datetime = datetime(2026, 4, 2, tzinfo=UTC)) -> None:
        self.land(REGISTRY_TOPIC, list(docs), at)

    def reports(self, *docs: dict[str, Any], at: datetime) -> None:
        self.land(REPORTS_TOPIC, list(docs), at)
