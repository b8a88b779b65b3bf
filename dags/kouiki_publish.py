"""
### kouiki_publish

Publishes the freshly built warehouse as `serving.duckdb` by atomic rename whenever
**kouiki_transform** succeeds, then makes a running Superset drop its cached chart results so
dashboards show the new numbers at once. Superset reads only the serving file, read-only, so
dashboards never block a build and never see a half-built state.

After the publish it also writes the open data snapshot of the latest quarter whose reports are
due (`kouiki open-data`); once that quarter's snapshot exists, the task does nothing.
"""

from airflow.sdk import dag, task

from kouiki.orchestration.assets import DUCKDB_POOL, SERVING_MARTS, WAREHOUSE_MARTS
from kouiki.orchestration.defaults import dag_arguments


@dag(schedule=[WAREHOUSE_MARTS], doc_md=__doc__, **dag_arguments("publish"))
def kouiki_publish() -> None:
    @task(outlets=[SERVING_MARTS], pool=DUCKDB_POOL)
    def publish_serving_file() -> str:
        from kouiki.config import Settings
        from kouiki.warehouse.publish import publish

        return str(publish(Settings.from_env()))

    @task
    def refresh_superset_cache() -> list[int]:
        from kouiki.config import Settings
        from kouiki.services.superset.deploy import refresh_after_publish

        return refresh_after_publish(Settings.from_env())  # no-op when Superset is not running

    @task
    def write_open_data_snapshot() -> str:
        from kouiki.config import Settings
        from kouiki.open_data.snapshot import write_snapshot

        return write_snapshot(Settings.from_env()).describe()  # a no-op once the quarter's snapshot exists

    publish_serving_file() >> [refresh_superset_cache(), write_open_data_snapshot()]


kouiki_publish()
