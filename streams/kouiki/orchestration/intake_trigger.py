"""How Airflow's triggerer watches the intake topics so that a submitted event starts kouiki_ingest.

The trigger only signals: the lander still reads the topics itself from its own offsets, so an event
that Airflow bundles into a run already queued, or links to no run, loses nothing. The trigger has
its own consumer group, apart from any other reader of the topics.

The connection lives in an ``AIRFLOW_CONN_*`` environment variable (JSON), not in the metadata
database, so it follows the broker address the platform was started with.
"""

from __future__ import annotations

import json

from kouiki.config import Settings
from kouiki.messaging.clients import librdkafka_security

CONN_ID = "kouiki_intake_trigger"
CONSUMER_GROUP = "kouiki-ingest-trigger"
# The trigger commits after Airflow has saved the event and refuses to start with auto-commit on.
# The broker's group join waits half the session timeout, so short timings keep a (re)join quick.
CONSUMER_CONFIG = {
    "group.id": CONSUMER_GROUP,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": "false",
    "session.timeout.ms": "2000",
    "heartbeat.interval.ms": "500",
}


def connection_variable(settings: Settings) -> dict[str, str]:
    """The environment variable that defines the trigger's Kafka connection."""
    extra = {"bootstrap.servers": settings.bootstrap_servers, **CONSUMER_CONFIG, **librdkafka_security(settings)}
    return {f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps({"conn_type": "kafka", "extra": extra})}
