"""One notice: what a consortium's secretariat must act on, in Japanese and English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

DEAD_LETTER = "dead_letter"  # a submitted document was refused: fix it and send it again
REPORT_DUE = "report_due"  # a quarterly report is due within ``notice_due_days`` and not received
REPORT_OVERDUE = "report_overdue"  # its due date has passed and it is still not received
KINDS = (DEAD_LETTER, REPORT_DUE, REPORT_OVERDUE)
TIMEZONE = ZoneInfo("Asia/Tokyo")  # days are counted as the secretariats count them


def today() -> date:
    """Today in Japan."""
    return datetime.now(TIMEZONE).date()


@dataclass(frozen=True)
class Notice:
    """``day`` is the date the notice refers to: the due date of a report, the day (Asia/Tokyo) a
    document was dead-lettered. ``consortium_code`` is None for a dead letter whose document names
    no consortium (unreadable): only operators see those. The Kafka position and ``event_id`` are
    those of the dead-lettered message, when known."""

    kind: str
    consortium_code: str | None
    project_code: str | None
    period: str | None
    title_ja: str
    title_en: str
    detail_ja: str
    detail_en: str
    day: date
    days_left: int | None = None  # a due report: days from today to the due date (negative: overdue)
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    event_id: str | None = None
