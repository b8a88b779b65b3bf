"""Notices for some consortia on a given day, newest first: the one entry point of the portal's
お知らせ page, the CLI and the digest."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from kouiki.config import Settings
from kouiki.notices.dead_letters import dead_letter_notices
from kouiki.notices.due import report_notices
from kouiki.notices.lake_index import lake_index
from kouiki.notices.notice import KINDS, Notice


def notices_for(
    settings: Settings, consortium_codes: Iterable[str], today: date, *, unattributed: bool = False
) -> list[Notice]:
    """What the secretariats of ``consortium_codes`` must act on as of ``today``. With
    ``unattributed`` (operators) also the dead letters whose document names no consortium."""
    codes = frozenset(consortium_codes)
    return _notices(settings, today, lambda code: code in codes if code is not None else unattributed)


def all_notices(settings: Settings, today: date) -> list[Notice]:
    """Every consortium's notices and the unattributed dead letters: the operators' view."""
    return _notices(settings, today, lambda code: True)


def _notices(settings: Settings, today: date, in_scope: Callable[[str | None], bool]) -> list[Notice]:
    index = lake_index(settings)
    found = dead_letter_notices(index, in_scope, today)
    found += report_notices(index, in_scope, today, settings.notice_due_days)
    return sorted(found, key=_newest_first)


def _newest_first(n: Notice) -> tuple[int, int, str, str, str, int]:
    return (
        -n.day.toordinal(),
        KINDS.index(n.kind),
        n.consortium_code or "",
        n.project_code or "",
        n.period or "",
        -(n.offset or 0),
    )
