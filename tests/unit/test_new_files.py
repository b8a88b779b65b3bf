"""Which topics an incremental build selects: those with a lake file no base model row names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from kouiki.lake import files as lake
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC
from kouiki.warehouse.new_files import incremental_selection, topics_with_new_files
from tests.support.platform import settings_for

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def land(raw: Path, topic: str, offset: int, status: str = lake.LANDED) -> str:
    row = lake.Row(topic, "e1", 0, offset, NOW, "K", b"{}", NOW, status)
    return lake.write_batch(lake.partition_dir(raw, topic, "e1", 0), [row]).relative_to(raw).as_posix()


def test_only_topics_with_unloaded_files_are_selected(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "127.0.0.1:9")
    registry_file = land(settings.raw_dir, REGISTRY_TOPIC, 0)
    first_report = land(settings.raw_dir, REPORTS_TOPIC, 0)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema staging")
        for base, loaded in (
            ("base_kafka_lake__registry_events", registry_file),
            ("base_kafka_lake__report_events", first_report),
        ):
            con.execute(f"create table staging.{base} as select ? as lake_file", [loaded])
    assert topics_with_new_files(settings) == set()
    assert incremental_selection(settings) == [
        "--select",
        "source:kafka_lake.registry_v1+",
        "source:kafka_lake.reports_v1+",
        "tag:every_run",  # fct_stuck_partitions: the lander's state, not the lake
        "--exclude",
        "config.materialized:view",
    ], "nothing new: every topic (due dates still move)"

    land(settings.raw_dir, REPORTS_TOPIC, 1)
    assert topics_with_new_files(settings) == {REPORTS_TOPIC}
    assert incremental_selection(settings)[:2] == ["--select", "source:kafka_lake.reports_v1+"]

    # a file of dead letters only never reaches a base model: its topic always counts as new
    land(settings.raw_dir, REGISTRY_TOPIC, 1, status=lake.DEAD_LETTER)
    assert topics_with_new_files(settings) == {REGISTRY_TOPIC, REPORTS_TOPIC}


def test_a_warehouse_without_base_models_counts_every_topic_with_files(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "127.0.0.1:9")
    land(settings.raw_dir, REPORTS_TOPIC, 0)
    duckdb.connect(str(settings.warehouse_path)).close()
    assert topics_with_new_files(settings) == {REPORTS_TOPIC}
