"""A published serving file and a running Superset for the dashboard tests, without broker or Airflow.

Sample events are written straight into the raw lake (as the lander would land them), dbt builds the
warehouse, and Superset is bootstrapped from infra/ and superset_assets/ on a free port.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kouiki.config import Settings
from kouiki.lake import files as lake
from kouiki.messaging.topics import REGISTRY_TOPIC, REPORTS_TOPIC
from kouiki.sample.generator import generate
from kouiki.services.superset import api, deploy, process
from kouiki.warehouse.dbt import build
from kouiki.warehouse.publish import publish

EPOCH = "sample"
# A few rejected messages, so the データ品質 dashboard has dead letters to show.
DEAD_LETTERS = (
    (b"{not json", "JSONDecodeError", "Expecting property name enclosed in double quotes"),
    (b'{"schema_version": "1.0"}', "ValidationError", "$: 'event_id' is a required property"),
)


def _lake_rows(topic: str, docs: Iterable[dict[str, Any]], key_field: str, start: int = 0) -> list[lake.Row]:
    now = datetime.now(UTC)
    rows = []
    for offset, doc in enumerate(docs, start=start):
        key = doc.get(key_field) or doc.get("consortium_code")
        rows.append(
            lake.Row(
                topic=topic,
                epoch=EPOCH,
                partition=0,
                offset=offset,
                kafka_ts=now,
                key=key,
                value=json.dumps(doc, ensure_ascii=False).encode(),
                ingested_at=now,
                status="landed",
            )
        )
    return rows


def _dead_letter_rows(topic: str, start: int) -> list[lake.Row]:
    now = datetime.now(UTC)
    return [
        lake.Row(
            topic=topic,
            epoch=EPOCH,
            partition=0,
            offset=start + i,
            kafka_ts=now,
            key=None,
            value=value,
            ingested_at=now,
            status="dead_letter",
            error_class=error_class,
            error_message=message,
        )
        for i, (value, error_class, message) in enumerate(DEAD_LETTERS)
    ]


def write_sample_lake(settings: Settings, seed: int = 2026, quarters: int = 6) -> None:
    """Land the generated sample directly, one partition per topic, offsets from 0."""
    sample = generate(seed=seed, quarters=quarters)
    registry = _lake_rows(REGISTRY_TOPIC, sample.registry, "project_code")
    reports = _lake_rows(REPORTS_TOPIC, sample.reports, "project_code")
    reports += _dead_letter_rows(REPORTS_TOPIC, start=len(reports))
    for topic, rows in ((REGISTRY_TOPIC, registry), (REPORTS_TOPIC, reports)):
        lake.write_batch(lake.partition_dir(settings.raw_dir, topic, EPOCH, 0), rows)


def build_and_publish(settings: Settings) -> Path:
    build(settings)
    return publish(settings)


@contextmanager
def running_superset(settings: Settings, port: int) -> Iterator[api.ApiClient]:
    """Bootstrap (assets and security) and start Superset on ``port``; stop it afterwards."""
    settings = dataclasses.replace(settings, superset_port=port)
    try:
        deploy.bootstrap(settings)
        deploy.start(settings)
        yield api.admin_client(settings, legacy=True)
    finally:
        process.stop(settings)
