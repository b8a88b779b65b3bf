"""
### kouiki_ingest

Lands what consortia have sent to the Kafka topics since the last run into the raw lake
(offset-named Parquet files, exactly once). When anything new landed, the `kouiki://lake/raw`
Asset is updated, which schedules **kouiki_transform**; an empty run is skipped and triggers nothing.
Runs on a schedule and on demand (trigger it from the UI or `POST /api/v2/dags/kouiki_ingest/dagRuns`).

**Schedule.** `KOUIKI_INGEST_SCHEDULE` (cron, read when the file is parsed), default every minute.
The target is a report on the dashboards within 3 minutes of `kouiki submit`. The worst case is one
schedule interval (a report sent just after a tick) plus the chain from that tick: landing,
`dbt source freshness`, `dbt build` and publish, and possibly waiting for a build already running,
since transforms never overlap. Measured by tests/integration/test_hands_off.py on two shared
cores: tick to serving 29–32 s, and up to about 75 s when a build was already running. Worst cases:
`*/5` about 5.5–6.5 min; `*/2` about 2.5 min, or over 3 min behind a running build; every minute
about 1.5–2.3 min, which meets the target with margin. A tick that finds nothing new costs a few
seconds of one worker and is skipped, so it triggers no build. The price is 1,440 small runs a day
in the metadata database; prune them with `airflow db clean`.
"""

from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

from kouiki.orchestration.assets import RAW_LAKE
from kouiki.orchestration.defaults import dag_arguments, ingest_schedule

SCHEDULE = ingest_schedule()


@dag(schedule=SCHEDULE, doc_md=__doc__, **dag_arguments("ingest"))
def kouiki_ingest() -> None:
    @task(outlets=[RAW_LAKE])
    def land_topics() -> dict[str, int]:
        from kouiki.config import Settings
        from kouiki.landing.coordinator import land

        settings = Settings.from_env()
        counts = land(settings)
        if counts.stuck:
            # A stuck partition raises an alert but does not fail the task: everything else has
            # landed, and only a successful task emits the RAW_LAKE event that gets it transformed.
            # The stuck partition stays in run/stuck_partitions.json and alerts again on every run
            # until an operator sets the batch aside (`kouiki quarantine`, docs/operations.md).
            from dataclasses import replace

            from airflow.sdk import get_current_context

            from kouiki.landing.stuck import alert_message
            from kouiki.orchestration.alerts import alert_from_context, record_alert

            alert = alert_from_context(get_current_context())
            record_alert(settings, replace(alert, message=alert_message(counts.stuck)))
        if counts.consumed == 0:
            raise AirflowSkipException("nothing new on the topics")  # no Asset event, no rebuild
        return {f"{t}[{p}]": c["consumed"] for (t, _e, p), c in counts.counts.items()}

    land_topics()


kouiki_ingest()
