"""
### kouiki_quality

Every morning at 07:00 (Asia/Tokyo), before Cabinet Office staff open the dashboards, checks the
published `serving.duckdb` (read-only): missing quarterly reports, late ones (a warning), messages
dead-lettered in the last day, and how long ago anything was landed; and `dbt source freshness` on
the lake sources, reported in the task's result and log (a stale source fails nothing: registrations
can rightly be quiet for months). A failed check fails the task, and the failure alerts through
`on_failure_callback`: a `KOUIKI ALERT` log line and a record in `<data_dir>/run/alerts.jsonl`.
Thresholds: `KOUIKI_QUALITY_*` (see `kouiki.quality.Thresholds`).
Skipped while nothing has been published yet.
"""

import pendulum
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

from kouiki.orchestration.assets import DUCKDB_POOL
from kouiki.orchestration.defaults import dag_arguments


@dag(schedule="0 7 * * *", doc_md=__doc__, **dag_arguments("quality", retry_delay=pendulum.duration(minutes=5)))
def kouiki_quality() -> None:
    @task
    def check_serving_data() -> str:
        from kouiki.config import Settings
        from kouiki.warehouse import quality

        settings = Settings.from_env()
        if not settings.serving_path.exists():
            raise AirflowSkipException(f"nothing published yet: {settings.serving_path} does not exist")
        return quality.raise_on_failure(
            quality.run_checks(settings.serving_path, limits=quality.Thresholds.of(settings))
        )

    @task(pool=DUCKDB_POOL)  # dbt's on-run-start hook writes the warehouse file
    def dbt_source_freshness() -> str:
        from kouiki.config import Settings
        from kouiki.warehouse import freshness

        return freshness.summary(freshness.source_freshness(Settings.from_env()))

    check_serving_data()
    dbt_source_freshness()


kouiki_quality()
