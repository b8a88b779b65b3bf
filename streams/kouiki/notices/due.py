"""Quarterly reports due soon or overdue: for each registered project active in the quarter's fiscal
year, a report for one of the recent quarters that has not landed (any version) is a notice once its
due date (``contract.periods.due_date``) is at most ``notice_due_days`` away, and overdue after it.
Only the last four quarters (``periods.recent_quarters``) count, so a new platform does not open
with years of history as overdue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from kouiki.contract import periods
from kouiki.notices.lake_index import LakeIndex
from kouiki.notices.notice import REPORT_DUE, REPORT_OVERDUE, Notice
from kouiki.notices.text import date_en, date_ja

RECENT_QUARTERS = 4


def report_notices(
    index: LakeIndex, in_scope: Callable[[str | None], bool], today: date, due_days: int
) -> list[Notice]:
    found = []
    for period in periods.recent_quarters(today, RECENT_QUARTERS):
        due = periods.due_date(period)
        days_left = (due - today).days
        if days_left > due_days:
            continue
        fiscal_year = periods.parse_quarter(period)[0]
        for project_code, project in index.projects.items():
            if not in_scope(project.consortium_code) or not project.start_fy <= fiscal_year <= project.end_fy:
                continue
            if (project_code, period) not in index.reports:
                found.append(_notice(project.consortium_code, project_code, period, due, days_left))
    return found


def _notice(consortium_code: str, project_code: str, period: str, due: date, days_left: int) -> Notice:
    if days_left >= 0:
        left_ja = "本日が期限" if days_left == 0 else f"あと{days_left}日"
        left_en = "due today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
        return Notice(
            REPORT_DUE,
            consortium_code,
            project_code,
            period,
            title_ja=f"{project_code} の {period} 四半期報告の提出期限が近づいています",
            title_en=f"Quarterly report {period} of {project_code} is due soon",
            detail_ja=f"提出期限は {date_ja(due)}（{left_ja}）です。まだ受け付けていません。",
            detail_en=f"Due {date_en(due)} ({left_en}); not received yet.",
            day=due,
            days_left=days_left,
        )
    late = -days_left
    return Notice(
        REPORT_OVERDUE,
        consortium_code,
        project_code,
        period,
        title_ja=f"{project_code} の {period} 四半期報告が提出期限を過ぎています",
        title_en=f"Quarterly report {period} of {project_code} is overdue",
        detail_ja=f"提出期限は {date_ja(due)} でした（{late}日超過）。まだ受け付けていません。"
        "速やかに提出してください。",
        detail_en=f"It was due {date_en(due)} ({late} day{'s' if late != 1 else ''} ago) and has not been received: "
        "please submit it now.",
        day=due,
        days_left=days_left,
    )
