"""
### kouiki_quality

Every morning at 07:00 (Asia/Tokyo), before Cabinet Office staff open the dashboards, checks the
published `serving.duckdb` (read-only): missing quarterly reports, late ones (a warning), messages
dead-lettered in the last day, and how long ago anything was landed. A failed check fails the task,
and the failure alerts through `on_failure_callback`: a `KOUIKI ALERT` log line and a record in
`<data_dir>/run/alerts.jsonl`. Thresholds: `KOUIKI_QUALITY_*` (see `kouiki.quality.Thresholds`).
Skipped while nothing has been published yet.
"""

import pendulum
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

from kouiki.quality import on_failure


@dag(
    schedule="0 7 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Tokyo"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    tags=["kouiki", "quality"],
    default_args={"owner": "kouiki", "retries": 2, "retry_delay": pendulum.duration(minutes=5),
                  "on_failure_callback": on_failure},
    doc_md=__doc__,
)
def kouiki_quality() -> None:
    @task
    def check_serving_data() -> str:
        from kouiki import quality
        from kouiki.config import Settings

        serving = Settings.from_env().serving_path
        if not serving.exists():
            raise AirflowSkipException(f"nothing published yet: {serving} does not exist")
        return quality.raise_on_failure(quality.run_checks(serving, limits=quality.Thresholds.from_env()))

    check_serving_data()


kouiki_quality()
