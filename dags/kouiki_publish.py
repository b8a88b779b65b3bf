"""
### kouiki_publish

Publishes the freshly built warehouse as `serving.duckdb` by atomic rename whenever
**kouiki_transform** succeeds, then makes a running Superset drop its cached chart results so
dashboards show the new numbers at once. Superset reads only the serving file, read-only, so
dashboards never block a build and never see a half-built state.
"""

import pendulum
from airflow.sdk import dag, task

from kouiki.assets import DUCKDB_POOL, SERVING_MARTS, WAREHOUSE_MARTS
from kouiki.quality import on_failure


@dag(
    schedule=[WAREHOUSE_MARTS],
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Tokyo"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    tags=["kouiki", "publish"],
    default_args={"owner": "kouiki", "retries": 2, "retry_delay": pendulum.duration(seconds=30),
                  "on_failure_callback": on_failure},
    doc_md=__doc__,
)
def kouiki_publish() -> None:
    @task(outlets=[SERVING_MARTS], pool=DUCKDB_POOL)
    def publish_serving_file() -> str:
        from kouiki import warehouse
        from kouiki.config import Settings

        return str(warehouse.publish(Settings.from_env()))

    @task
    def refresh_superset_cache() -> list[int]:
        from kouiki import superset_runtime
        from kouiki.config import Settings

        return superset_runtime.refresh_datasets(Settings.from_env())  # no-op when Superset is not running

    publish_serving_file() >> refresh_superset_cache()


kouiki_publish()
