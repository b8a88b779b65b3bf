"""What is known of the registry (consortia and projects), rebuilt from the lake and the registry
topic, so reports can be checked against the codes they refer to."""

from __future__ import annotations

from datetime import datetime

import pyarrow.parquet as pq
from kafka import TopicPartition

from kouiki import kafka_io
from kouiki.config import REGISTRY_TOPIC, Settings
from kouiki.contract import fast
from kouiki.contract.rules import Registry


def _add_in_order(registry: Registry, docs: list[fast.Document]) -> None:
    """Later registrations replace earlier ones, by submission time."""
    for doc in sorted(docs, key=lambda d: datetime.fromisoformat(d.submitted_at)):
        registry.add(doc)


def _decode_all(values: list[bytes]) -> list[fast.Document]:
    docs = []
    for value in values:
        try:
            docs.append(fast.decode(value))
        except fast.GateError:
            continue
    return docs


def from_lake(settings: Settings, registry: Registry | None = None) -> Registry:
    """Registrations landed in the lake (every epoch)."""
    registry = registry if registry is not None else Registry()
    folder = settings.raw_dir / REGISTRY_TOPIC
    files = sorted(folder.glob("epoch=*/partition=*/*.parquet")) if folder.is_dir() else []
    values: list[bytes] = []
    for path in files:
        table = pq.read_table(path, columns=["_value", "_status"])
        values.extend(v for v, s in zip(table.column("_value").to_pylist(), table.column("_status").to_pylist(),
                                        strict=True) if s == "landed")
    _add_in_order(registry, _decode_all(values))
    return registry


def from_topic(settings: Settings, registry: Registry | None = None, timeout: float = 30.0) -> Registry:
    """Registrations currently on the registry topic."""
    import time

    registry = registry if registry is not None else Registry()
    consumer = kafka_io.consumer(settings, client_id="kouiki-registry-reader")
    try:
        numbers = sorted(consumer.partitions_for_topic(REGISTRY_TOPIC) or [])
        partitions = [TopicPartition(REGISTRY_TOPIC, p) for p in numbers]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        values: list[bytes] = []
        deadline = time.monotonic() + timeout
        pending = set(partitions)
        while pending and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                values.extend(r.value for r in records if r.value is not None)
            pending = {tp for tp in pending if consumer.highwater(tp) is None
                       or consumer.position(tp) < (consumer.highwater(tp) or 0)}
    finally:
        consumer.close()
    _add_in_order(registry, _decode_all(values))
    return registry
