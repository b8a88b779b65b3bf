"""``kouiki status``: how far landing has got, per topic and partition — the broker's end offset
(high watermark from fetched data), the last landed offset of the current epoch, the lag, the
dead-lettered count and the newest landed event time — and the partitions the lander is stuck on
(``stuck``), with the offset and the error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
from kafka import TopicPartition

from kouiki.config import Settings
from kouiki.lake import files as lake
from kouiki.landing.stuck import StuckPartition
from kouiki.messaging import clients
from kouiki.messaging.topics import INGEST_TOPICS
from kouiki.messaging.watermarks import high_watermarks, topic_epochs


@dataclass(frozen=True)
class PartitionStatus:
    topic: str
    partition: int
    epoch: str
    end_offset: int | None
    landed_offset: int | None  # the last offset in the lake, None if nothing landed yet
    dead_lettered: int
    newest_event: datetime | None

    @property
    def lag(self) -> int | None:
        if self.end_offset is None:
            return None
        return self.end_offset - (self.landed_offset + 1 if self.landed_offset is not None else 0)


def _lake_stats(folder: str) -> tuple[int, datetime | None]:
    rows = (
        duckdb.connect()
        .execute(
            f"select count(*) filter (where _status = 'dead_letter'), "  # noqa: S608 - a lake path
            f"max(_kafka_ts) filter (where _status = 'landed') from read_parquet('{folder}/*.parquet')"
        )
        .fetchall()
    )
    return (int(rows[0][0]), rows[0][1]) if rows else (0, None)


def collect(settings: Settings, timeout: float = 10.0) -> list[PartitionStatus]:
    consumer = clients.consumer(settings, client_id="kouiki-status")
    admin = clients.admin(settings)
    try:
        epochs = topic_epochs(admin, INGEST_TOPICS)
        partitions = [
            TopicPartition(t, p) for t in INGEST_TOPICS for p in sorted(consumer.partitions_for_topic(t) or [])
        ]
        consumer.assign(partitions)
        folders = {}
        for tp in partitions:
            folders[tp] = lake.partition_dir(settings.raw_dir, tp.topic, epochs[tp.topic], tp.partition)
            consumer.seek(tp, lake.next_offset(folders[tp]))
        try:
            high_watermarks(consumer, partitions, timeout)
        except TimeoutError:
            pass  # shown as unknown ("-")
        statuses = []
        for tp in partitions:
            folder = folders[tp]
            ranges = lake.landed_ranges(folder)
            dead, newest = _lake_stats(str(folder)) if ranges else (0, None)
            statuses.append(
                PartitionStatus(
                    tp.topic,
                    tp.partition,
                    folder.parent.name.removeprefix("epoch="),
                    consumer.highwater(tp),
                    ranges[-1][1] if ranges else None,
                    dead,
                    newest,
                )
            )
        return statuses
    finally:
        consumer.close()
        admin.close()


def render(statuses: list[PartitionStatus], stuck: list[StuckPartition] | None = None) -> str:
    header = f"{'topic':<20} {'part':>4} {'end offset':>10} {'landed':>10} {'lag':>8} {'dead':>6}  newest landed event"
    lines = [header, "-" * len(header)]
    for s in statuses:

        def show(value: int | None) -> str:
            return "-" if value is None else f"{value:,}"

        newest = s.newest_event.isoformat(timespec="seconds") if s.newest_event else "-"
        lines.append(
            f"{s.topic:<20} {s.partition:>4} {show(s.end_offset):>10} {show(s.landed_offset):>10} "
            f"{show(s.lag):>8} {s.dead_lettered:>6}  {newest}"
        )
    if stuck:
        lines += ["", f"stuck partitions / 取り込みが止まっているパーティション: {len(stuck)}"]
        lines += [
            f"STUCK {e.topic}[{e.partition}] epoch={e.epoch} offset={e.offset} {e.error_class}: {e.error_message} "
            f"(first seen {e.first_seen}, last seen {e.last_seen})"
            for e in stuck
        ]
    return "\n".join(lines)
