"""The alert every Kouiki DAG raises when a task fails: one ``KOUIKI ALERT`` log line and a record
appended to ``<data_dir>/run/alerts.jsonl`` (mail and chat notifiers can tail that file)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kouiki.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    at: str
    dag_id: str
    task_id: str
    run_id: str
    try_number: int | None
    message: str
    log_url: str | None


def alerts_path(settings: Settings) -> Path:
    return settings.run_dir / "alerts.jsonl"


def record_alert(settings: Settings, alert: Alert) -> Path:
    """Log the alert line and append the alert as one JSON line (append is atomic for short lines)."""
    log.error("KOUIKI ALERT %s.%s run %s: %s", alert.dag_id, alert.task_id, alert.run_id, alert.message)
    path = alerts_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(asdict(alert), ensure_ascii=False) + "\n")
    return path


def alert_from_context(context: Mapping[str, Any], now: datetime | None = None) -> Alert:
    """Build an Alert from an Airflow task callback context (read by attribute, so no Airflow import)."""
    ti = context.get("task_instance") or context.get("ti")
    exception = context.get("exception")
    return Alert(
        at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        dag_id=str(getattr(ti, "dag_id", context.get("dag_id", "?"))),
        task_id=str(getattr(ti, "task_id", "?")),
        run_id=str(getattr(ti, "run_id", context.get("run_id", "?"))),
        try_number=getattr(ti, "try_number", None),
        message=str(exception) if exception else "task failed",
        log_url=getattr(ti, "log_url", None),
    )


def on_failure(context: Mapping[str, Any], settings_factory: Callable[[], Settings] = Settings.from_env) -> None:
    """Airflow ``on_failure_callback``: a callback must never raise, so problems are only logged."""
    try:
        record_alert(settings_factory(), alert_from_context(context))
    except Exception:
        log.exception("KOUIKI ALERT could not be recorded")
