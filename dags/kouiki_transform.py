"""
### kouiki_transform

Whenever **kouiki_ingest** lands new events: `dbt source freshness` on the lake sources, then
`dbt build` (dbt-duckdb) over the whole raw lake into `warehouse.duckdb`. A stale source is reported
in the freshness task's result and log but does not block the build: new data has just landed on the
other topic, and registrations can rightly be quiet for months (kouiki_quality alerts on a lake that
stopped receiving data). The freshness task fails only when dbt could not run the check.
The build is state based (it re-reads the lake), so events that arrive during a run
are picked up by the next one. dbt is the only writer of the warehouse file: one run at a time
(`max_active_runs=1`), and both tasks in the one-slot `kouiki_duckdb` pool shared with publishing.
"""

import pendulum
from airflow.sdk import dag, task

from kouiki.assets import DUCKDB_POOL, RAW_LAKE, WAREHOUSE_MARTS
from kouiki.quality import on_failure


@dag(
    schedule=[RAW_LAKE],
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Tokyo"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    tags=["kouiki", "transform", "dbt"],
    default_args={"owner": "kouiki", "retries": 2, "retry_delay": pendulum.duration(seconds=30),
                  "on_failure_callback": on_failure},
    doc_md=__doc__,
)
def kouiki_transform() -> None:
    @task(pool=DUCKDB_POOL)
    def dbt_source_freshness() -> str:
        from kouiki import freshness
        from kouiki.config import Settings

        return freshness.summary(freshness.source_freshness(Settings.from_env()))

    @task(outlets=[WAREHOUSE_MARTS], pool=DUCKDB_POOL)
    def dbt_build() -> str:
        from kouiki import warehouse
        from kouiki.config import Settings

        return warehouse.build(Settings.from_env()).summary

    dbt_source_freshness() >> dbt_build()


kouiki_transform()
