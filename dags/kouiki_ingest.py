"""
### kouiki_ingest

Lands what consortia have sent to the Kafka topics since the last run into the raw lake
(offset-named Parquet files, exactly once). When anything new landed, the `kouiki://lake/raw`
Asset is updated, which schedules **kouiki_transform**; an empty run is skipped and triggers nothing.
Runs on a schedule and on demand (trigger it from the UI or `POST /api/v2/dags/kouiki_ingest/dagRuns`).

**Schedule.** `KOUIKI_INGEST_SCHEDULE` (cron, read when the file is parsed), default every two
minutes. The target is a report on the dashboards within 3 minutes of `kouiki submit`. The worst case
is one schedule interval (a report sent just after a tick) plus the chain: landing, `dbt source
freshness`, `dbt build` and publish (about 40 s here, measured by tests/integration/test_hands_off.py).
`*/5` would be up to about 5 min 40 s, `*/2` about 2 min 40 s. A run that finds nothing new costs a few
seconds and is skipped. Every minute is allowed where a shorter delay is worth twice the runs.
"""

import os

import pendulum
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

from kouiki.assets import RAW_LAKE
from kouiki.quality import on_failure

SCHEDULE = os.environ.get("KOUIKI_INGEST_SCHEDULE", "*/2 * * * *")


@dag(
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Tokyo"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    tags=["kouiki", "ingest"],
    default_args={"owner": "kouiki", "retries": 2, "retry_delay": pendulum.duration(seconds=30),
                  "on_failure_callback": on_failure},
    doc_md=__doc__,
)
def kouiki_ingest() -> None:
    @task(outlets=[RAW_LAKE])
    def land_topics() -> dict[str, int]:
        from kouiki import lander
        from kouiki.config import Settings

        report = lander.land(Settings.from_env())
        if report.consumed == 0:
            raise AirflowSkipException("nothing new on the topics")  # no Asset event, no rebuild
        return {f"{t}[{p}]": c["consumed"] for (t, _e, p), c in report.counts.items()}

    land_topics()


kouiki_ingest()
