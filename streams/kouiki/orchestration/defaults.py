"""The ``@dag`` arguments every Kouiki DAG shares: Tokyo time, no catch-up, one run at a time,
unpaused on creation, two retries and the failure alert."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable

from kouiki.config import Settings
from kouiki.orchestration.alerts import on_failure
from kouiki.orchestration.assets import INTAKE_TOPICS

TIMEZONE = "Asia/Tokyo"


def dag_arguments(*tags: str, retry_delay: pendulum.Duration | None = None) -> dict[str, Any]:
    """Keyword arguments for ``@dag``; add ``schedule`` and ``doc_md``."""
    return {
        "start_date": pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
        "catchup": False,
        "max_active_runs": 1,
        "is_paused_upon_creation": False,
        "tags": ["kouiki", *tags],
        "default_args": {
            "owner": "kouiki",
            "retries": 2,
            "retry_delay": retry_delay or pendulum.duration(seconds=30),
            "on_failure_callback": on_failure,
        },
    }


def ingest_cron() -> str:
    """``KOUIKI_INGEST_SCHEDULE``, read when the DAG file is parsed."""
    return Settings.from_env().ingest_schedule


def ingest_schedule() -> AssetOrTimeSchedule:
    """A message on an intake topic, or the ``KOUIKI_INGEST_SCHEDULE`` cron as a safety net: the
    trigger can fall silent (a restarted broker) and the cron still lands what it missed."""
    return AssetOrTimeSchedule(timetable=CronTriggerTimetable(ingest_cron(), timezone=TIMEZONE), assets=INTAKE_TOPICS)
