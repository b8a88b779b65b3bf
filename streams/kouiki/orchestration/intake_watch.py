"""The trigger that watches the intake topics: the provider's shared-stream Kafka trigger, but the
event it saves says only that something arrived and how big it was. The provider's own event is the
whole message (a signed report), which would be copied into the metadata database's
``asset_event`` table and the triggerer's log for every message; the lander reads the message itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.providers.apache.kafka.triggers.shared_stream import KafkaSharedStreamTrigger
from airflow.triggers.base import TriggerEvent


class IntakeTrigger(KafkaSharedStreamTrigger):
    """One event per message on the intake topics, carrying its size only."""

    def serialize(self) -> tuple[str, dict[str, Any]]:
        _, kwargs = super().serialize()
        return f"{__name__}.{type(self).__name__}", kwargs

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        async for value in shared_stream:
            size = len(value) if value is not None else 0
            yield TriggerEvent({"message_bytes": size})  # type: ignore[no-untyped-call]  # untyped in Airflow
