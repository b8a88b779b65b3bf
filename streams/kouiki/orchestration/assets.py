"""The Airflow Assets that chain intake → ingest → transform → publish. Declared once, here."""

from airflow.sdk import Asset, AssetWatcher

from kouiki.messaging.topics import INGEST_TOPICS
from kouiki.orchestration.intake_trigger import CONN_ID
from kouiki.orchestration.intake_watch import IntakeTrigger

# Updated by the triggerer whenever a message arrives on an intake topic; schedules kouiki_ingest.
# One shared consumer for both topics; it commits an offset only once the event is saved.
INTAKE_TOPICS = Asset(
    "kouiki://topics/intake",
    watchers=[
        AssetWatcher(
            name="kouiki_intake_messages",
            trigger=IntakeTrigger(topics=list(INGEST_TOPICS), kafka_config_id=CONN_ID, poll_timeout=1.0),
        )
    ],
)
RAW_LAKE = Asset("kouiki://lake/raw")
WAREHOUSE_MARTS = Asset("kouiki://warehouse/marts")
SERVING_MARTS = Asset("kouiki://serving/marts")

# One slot: dbt (the warehouse's only writer) and the publish copy never run at the same time.
DUCKDB_POOL = "kouiki_duckdb"
