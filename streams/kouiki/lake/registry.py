"""The registry (consortia and projects) as landed in the lake, so reports can be checked against
the codes they refer to."""

from __future__ import annotations

import pyarrow.parquet as pq

from kouiki.config import Settings
from kouiki.contract.rules import Registry
from kouiki.lake.files import LANDED, topic_dir
from kouiki.messaging.topics import REGISTRY_TOPIC


def from_lake(settings: Settings, registry: Registry | None = None) -> Registry:
    """``registry`` (or a new one) with every registration landed in the lake (every epoch) added."""
    registry = registry if registry is not None else Registry()
    folder = topic_dir(settings.raw_dir, REGISTRY_TOPIC)
    files = sorted(folder.glob("epoch=*/partition=*/*.parquet")) if folder.is_dir() else []
    values: list[bytes] = []
    for path in files:
        table = pq.ParquetFile(path).read(columns=["_value", "_status"])  # read_table imports pyarrow.dataset: 0.1 s
        values.extend(
            v
            for v, s in zip(table.column("_value").to_pylist(), table.column("_status").to_pylist(), strict=True)
            if s == LANDED
        )
    registry.add_valid_in_order(values)
    return registry
