"""
### kouiki_ingest

Lands what consortia have sent to the Kafka topics since the last run into the raw lake
(offset-named Parquet files, exactly once). When anything new landed, the `kouiki://lake/raw`
Asset is updated, which schedules **kouiki_transform**. Runs every five minutes and on demand.
"""

import pendulum
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

from kouiki.assets import RAW_LAKE


@dag(
    schedule="*/5 * * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Tokyo"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    tags=["kouiki", "ingest"],
    default_args={"owner": "kouiki", "retries": 2, "retry_delay": pendulum.duration(seconds=30)},
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
