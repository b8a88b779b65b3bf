"""Which lake topics hold files the warehouse has not loaded yet, so an incremental build runs only
the models downstream of those topics (a report landing does not rebuild the registry models).

A file counts as loaded when a row of its topic's base model names it (``lake_file``). A file that
holds only dead letters never reaches a base model, so its topic always counts as new: the
selection is then wider than needed, never narrower.
"""

from __future__ import annotations

from kouiki.config import Settings
from kouiki.lake import files as lake
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC

# topic -> (its kafka_lake source table, the base model that loads it)
SOURCES = {
    REGISTRY_TOPIC: ("registry_v1", "base_kafka_lake__registry_events"),
    REPORTS_TOPIC: ("reports_v1", "base_kafka_lake__report_events"),
}


def landed_files(settings: Settings, topic: str) -> set[str]:
    """The topic's files as the base models name them: relative to the lake root."""
    folder = lake.topic_dir(settings.raw_dir, topic)
    return {
        path.relative_to(settings.raw_dir).as_posix()
        for path in folder.glob("epoch=*/partition=*/*.parquet")
        if lake.FILE_PATTERN.match(path.name)
    }


def topics_with_new_files(settings: Settings) -> set[str]:
    """Topics with a landed file their base model has no row from; every topic with files when the
    warehouse cannot tell (no base model yet)."""
    import duckdb

    new = set()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for topic, (_source, base) in SOURCES.items():
            on_disk = landed_files(settings, topic)
            if not on_disk:
                continue
            query = f"select distinct lake_file from staging.{base}"  # noqa: S608 - a constant of this module
            try:
                loaded = {row[0] for row in con.execute(query).fetchall()}
            except duckdb.Error:
                loaded = set()
            if on_disk - loaded:
                new.add(topic)
    return new


def incremental_selection(settings: Settings) -> list[str]:
    """dbt arguments: the models downstream of the topics with new files (of every topic when none
    has: a report's due status still moves with the date) and the models tagged ``every_run`` (built
    from the lander's state, not the lake), views excepted, as they hold no data and change only
    with the project."""
    topics = topics_with_new_files(settings) or set(SOURCES)
    sources = [f"source:kafka_lake.{SOURCES[topic][0]}+" for topic in sorted(topics)]
    return ["--select", *sources, "tag:every_run", "--exclude", "config.materialized:view"]
