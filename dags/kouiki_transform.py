"""
### kouiki_transform
Whenever **kouiki_ingest** lands new events: the incremental `dbt run` (dbt-duckdb, `kouiki build`)
into `warehouse.duckdb`: only lake files not loaded yet are read, and only the projects they name
are redone. The full `dbt build --full-refresh`, with every test, runs instead when no full rebuild
was recorded yet or the last is older than `KOUIKI_FULL_REBUILD_HOURS` (a day); `kouiki build
--full-refresh` by hand after a change to the dbt project. `dbt source freshness` is not run here:
new data has just landed, so it could only report the other topic, and each dbt start costs seconds
on the way to the dashboards; **kouiki_quality** runs it every morning. Files that land during a run
are picked up by the next one. dbt is the only writer of the warehouse file: one run at a time
(`max_active_runs=1`), in the one-slot `kouiki_duckdb` pool shared with publishing.
"""

from airflow.sdk import dag, task

from kouiki.orchestration.assets import DUCKDB_POOL, RAW_LAKE, WAREHOUSE_MARTS
from kouiki.orchestration.defaults import dag_arguments


@dag(schedule=[RAW_LAKE], doc_md=__doc__, **dag_arguments("transform", "dbt"))
def kouiki_transform() -> None:
    @task(outlets=[WAREHOUSE_MARTS], pool=DUCKDB_POOL)
    def dbt_build() -> str:
        from kouiki.config import Settings
        from kouiki.warehouse.dbt import build

        return build(Settings.from_env()).summary

    dbt_build()


kouiki_transform()
