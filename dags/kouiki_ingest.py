"""
### kouiki_ingest

Lands what consortia have sent to the Kafka topics since the last run into the raw lake
(offset-named Parquet files, exactly once). When anything new landed, the `kouiki://lake/raw`
Asset is updated, which schedules **kouiki_transform**; an empty run is skipped and triggers nothing.
Starts when events arrive; also runs on a slow schedule and on demand (trigger it from the UI or
`POST /api/v2/dags/kouiki_ingest/dagRuns`).

**Trigger.** Airflow's triggerer watches the intake topics with its own consumer group
(`KafkaSharedStreamTrigger`, connection `kouiki_intake_trigger` from the environment) and updates
the `kouiki://topics/intake` Asset for every message, which schedules this DAG. One run at a time:
events that arrive during a run are linked to the next one, or to none, and the lander reads the
topics itself, so a burst of messages costs one or two runs and loses nothing. A run first asks
whether anything is new (`kouiki.landing.idle`, a fraction of a second) and skips if not. Measured
with the national-scale sample (`make bench-freshness`, two cores): submit to landed 2.6 s median,
to a chart's data 17.8 s median and 20.2 s p95.

**Safety net.** `KOUIKI_INGEST_SCHEDULE` (cron, read when the file is parsed), default every
15 minutes, lands whatever the trigger missed: after a broker restart the trigger can stall without
an error until the triggerer is restarted (the local platform restarts it with the broker). A tick
that finds nothing new costs a few seconds of one worker and is skipped, so it triggers no build.
Every message is one row in the metadata database's `asset_event` table; prune with `airflow db clean`.
"""

from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

from kouiki.orchestration.assets import RAW_LAKE
from kouiki.orchestration.defaults import dag_arguments, ingest_cron, ingest_schedule

SCHEDULE = ingest_cron()  # the safety-net cron


@dag(schedule=ingest_schedule(), doc_md=__doc__, **dag_arguments("ingest"))
def kouiki_ingest() -> None:
    @task(outlets=[RAW_LAKE])
    def land_topics() -> dict[str, int]:
        from kouiki.config import Settings
        from kouiki.landing.idle import look

        settings = Settings.from_env()
        plan = look(settings)
        if plan is not None and plan.idle(settings):  # a trigger or tick whose events an earlier run landed
            raise AirflowSkipException("nothing new on the topics")
        from kouiki.landing import stuck
        from kouiki.landing.coordinator import land

        stuck_before = {(e.key, e.offset) for e in stuck.load(settings)}
        counts = land(settings, plan=plan)
        if counts.stuck:
            # A stuck partition raises an alert but does not fail the task: everything else has
            # landed, and only a successful task emits the RAW_LAKE event that gets it transformed.
            # The stuck partition stays in run/stuck_partitions.json and alerts again on every run
            # until an operator sets the batch aside (`kouiki quarantine`, docs/operations.md).
            from dataclasses import replace

            from airflow.sdk import get_current_context

            from kouiki.orchestration.alerts import alert_from_context, record_alert

            alert = alert_from_context(get_current_context())
            record_alert(settings, replace(alert, message=stuck.alert_message(counts.stuck)))
        # A partition newly stuck or cleared changes the データ品質 dashboard even when nothing landed.
        if counts.consumed == 0 and {(e.key, e.offset) for e in stuck.load(settings)} == stuck_before:
            raise AirflowSkipException("nothing new on the topics")  # no Asset event, no rebuild
        return {f"{t}[{p}]": c["consumed"] for (t, _e, p), c in counts.counts.items()}

    land_topics()


kouiki_ingest()
