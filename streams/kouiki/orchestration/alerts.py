"""The alert every Kouiki DAG raises when a task fails: one ``KOUIKI ALERT`` log line, a record
appended to ``<data_dir>/run/alerts.jsonl`` (read by the データ品質 dashboard) and, when
``KOUIKI_ALERT_EMAILS`` names recipients, an e-mail in Japanese and English sent through the SMTP
provider's ``SmtpNotifier``.

The notifier sends through an Airflow connection, ``kouiki_smtp``. It is made here from the
``KOUIKI_SMTP_*`` settings, the ones the notice digests use, and defined only while the alert is
sent, as an ``AIRFLOW_CONN_KOUIKI_SMTP`` variable of the task process (Airflow's environment
secrets backend is the first one a task asks). So nothing else needs wiring: the local stack and
docker compose already hand the ``KOUIKI_*`` settings to the tasks.
"""

from __future__ import annotations

import html
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kouiki.config import Settings

log = logging.getLogger(__name__)

SMTP_CONN_ID = "kouiki_smtp"
SMTP_TIMEOUT_S = 20  # as the notice digests (kouiki.notices.mailer): a failing task waits no longer
TOKYO = ZoneInfo("Asia/Tokyo")


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


def alert_recipients(settings: Settings) -> list[str]:
    """``KOUIKI_ALERT_EMAILS``: comma-separated addresses, blanks ignored."""
    return [address.strip() for address in settings.alert_emails.split(",") if address.strip()]


def smtp_connection(settings: Settings) -> dict[str, Any]:
    """The ``kouiki_smtp`` connection in Airflow's JSON form, from ``KOUIKI_SMTP_*``: plain SMTP on the
    port, STARTTLS and login when configured, as the notice digests send (the SMTP hook's defaults,
    implicit TLS and STARTTLS both on, are switched to the settings')."""
    return {
        "conn_type": "smtp",
        "host": settings.smtp_host,
        "port": settings.smtp_port,
        "login": settings.smtp_user or None,
        "password": settings.smtp_password or None,
        "extra": {
            "from_email": settings.smtp_from,
            "disable_ssl": True,
            "disable_tls": not settings.smtp_starttls,
            "timeout": SMTP_TIMEOUT_S,
            "retry_limit": 1,
        },
    }


def connection_variable(settings: Settings) -> dict[str, str]:
    """The environment variable that defines ``kouiki_smtp``."""
    return {f"AIRFLOW_CONN_{SMTP_CONN_ID.upper()}": json.dumps(smtp_connection(settings))}


@contextmanager
def smtp_connection_defined(settings: Settings) -> Iterator[None]:
    """Define ``kouiki_smtp`` in this process's environment while the block runs, then put back what
    was there. The variable is written, never read: the values come from the settings."""
    variable = connection_variable(settings)
    saved = {name: os.environ.pop(name) for name in variable if name in os.environ}
    os.environ.update(variable)
    try:
        yield
    finally:
        for name in variable:
            os.environ.pop(name, None)
        os.environ.update(saved)


def _error_text(alert: Alert, context: Mapping[str, Any]) -> str:
    exception = context.get("exception")
    return f"{type(exception).__name__}: {alert.message}" if isinstance(exception, BaseException) else alert.message


def _tokyo_time(at: str) -> str:
    try:
        return datetime.fromisoformat(at).astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S JST")
    except ValueError:
        return at


def alert_email(alert: Alert, error: str) -> tuple[str, str]:
    """Subject and HTML body: Japanese first, English beside it. Every value is escaped (the error
    text can quote anything)."""
    subject = f"[Kouiki] タスク失敗 / Task failed: {alert.dag_id}.{alert.task_id}"
    e = html.escape
    log_link = f'<a href="{e(alert.log_url, quote=True)}">{e(alert.log_url)}</a>' if alert.log_url else "-"
    rows = [
        ("DAG", "DAG", e(alert.dag_id)),
        ("タスク", "Task", e(alert.task_id)),
        ("実行", "Run", e(alert.run_id)),
        ("試行", "Try", e(str(alert.try_number if alert.try_number is not None else "-"))),
        ("日時", "At", e(_tokyo_time(alert.at))),
        ("ログ", "Log", log_link),
    ]
    table = "".join(f'<tr><th align="left">{ja} / {en}</th><td>{value}</td></tr>' for ja, en, value in rows)
    body = (
        '<html><body lang="ja">'
        "<p>Kouiki の DAG のタスクが失敗しました（再試行なし）。ログを確認してください。<br>"
        "A task of a Kouiki DAG has failed (no retries left). Please check its log.</p>"
        f"<table>{table}</table>"
        f"<p>エラー / Error:</p><pre>{e(error)}</pre>"
        "<p>この通知は自動送信です / This message was sent automatically.</p>"
        "</body></html>"
    )
    return subject, body


def email_alert(settings: Settings, alert: Alert, context: Mapping[str, Any]) -> list[str]:
    """E-mail the alert to ``KOUIKI_ALERT_EMAILS`` through ``SmtpNotifier``; returns the recipients
    (none: nothing sent). Raises what the notifier raises."""
    recipients = alert_recipients(settings)
    if not recipients:
        return []
    if not settings.smtp_host:
        log.warning("KOUIKI ALERT not e-mailed: KOUIKI_ALERT_EMAILS is set but KOUIKI_SMTP_HOST is not")
        return []
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier  # not at DAG parse time

    subject, body = alert_email(alert, _error_text(alert, context))
    notifier = SmtpNotifier(
        to=recipients,
        from_email=settings.smtp_from,
        subject=subject,
        html_content=body,
        smtp_conn_id=SMTP_CONN_ID,
        custom_headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no auto-replies
    )
    with smtp_connection_defined(settings):
        # notify(), not notifier(context): calling it renders subject and body as Jinja templates,
        # and the error text in them is data, not a template.
        notifier.notify(context)  # type: ignore[arg-type]
    return recipients


def on_failure(context: Mapping[str, Any], settings_factory: Callable[[], Settings] = Settings.from_env) -> None:
    """Airflow ``on_failure_callback``: a callback must never raise, so problems are only logged. The
    record is written first, so a slow or broken mail server cannot cost it."""
    try:
        settings = settings_factory()
        alert = alert_from_context(context)
    except Exception:
        log.exception("KOUIKI ALERT could not be recorded")
        return
    try:
        record_alert(settings, alert)
    except Exception:
        log.exception("KOUIKI ALERT could not be recorded")
    try:
        sent_to = email_alert(settings, alert, context)
        if sent_to:
            log.info("KOUIKI ALERT e-mailed to %s", ", ".join(sent_to))
    except Exception:
        log.exception("KOUIKI ALERT could not be e-mailed to %s", settings.alert_emails)
