"""The Airflow Assets that chain ingest → transform → publish. Declared once, here."""

from airflow.sdk import Asset

RAW_LAKE = Asset("kouiki://lake/raw")
WAREHOUSE_MARTS = Asset("kouiki://warehouse/marts")
SERVING_MARTS = Asset("kouiki://serving/marts")

# One slot: dbt (the warehouse's only writer) and the publish copy never run at the same time.
DUCKDB_POOL = "kouiki_duckdb"
