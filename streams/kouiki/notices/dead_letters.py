"""Dead-lettered documents as notices for the consortium their document names.

A dead letter stays a notice for ``DEAD_LETTER_DAYS`` after it was refused, unless the same thing was
landed after it (a report of the same project and period, a registration of the same code): the
secretariat has then fixed and resent it. A document that names no consortium (not JSON, or no
readable ``consortium_code`` or ``project_code``) is shown to operators only, and so is one refused
because its signature did not prove who sent it: anyone can name any consortium in a document, and
such a notice would let them write into another consortium's portal and mailbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from kouiki.contract.model import CONSORTIUM_CODE, PROJECT_CODE
from kouiki.identity.keys import BAD_SIGNATURE, NOT_AUTHORIZED, REVOKED_KEY, UNKNOWN_KEY, UNSIGNED
from kouiki.notices.fixes import fix_for
from kouiki.notices.lake_index import DeadLetterRow, LakeIndex
from kouiki.notices.notice import DEAD_LETTER, TIMEZONE, Notice
from kouiki.notices.text import date_en, date_ja

DEAD_LETTER_DAYS = 90
MESSAGE_CHARS = 600
LABELS = {  # entity -> (Japanese, English)
    "report": ("四半期報告", "Quarterly report"),
    "project": ("事業登録", "Project registration"),
    "consortium": ("連携体登録", "Consortium registration"),
}
UNKNOWN_LABEL = ("文書", "Document")
UNPROVEN_SENDER = frozenset({UNSIGNED, BAD_SIGNATURE, UNKNOWN_KEY, REVOKED_KEY, NOT_AUTHORIZED})


def consortium_of(row: DeadLetterRow) -> str | None:
    """The consortium a dead-lettered document names: its ``consortium_code``, else the consortium
    part of its ``project_code``; None when neither is a well-formed code or the sender is unproven."""
    if row.error_class in UNPROVEN_SENDER:
        return None
    if row.consortium_code is not None:
        return row.consortium_code if CONSORTIUM_CODE.matches(row.consortium_code) else None
    if row.project_code is not None and PROJECT_CODE.matches(row.project_code):
        return row.project_code.rsplit("-", 1)[0]
    return None


def dead_letter_notices(index: LakeIndex, in_scope: Callable[[str | None], bool], today: date) -> list[Notice]:
    oldest = today - timedelta(days=DEAD_LETTER_DAYS)
    found = []
    for row in index.dead_letters:
        day = row.ingested_at.astimezone(TIMEZONE).date()
        if not oldest <= day <= today:
            continue
        consortium = consortium_of(row)
        if in_scope(consortium) and not _resent(index, row):
            found.append(_notice(row, consortium, day))
    return found


def _resent(index: LakeIndex, row: DeadLetterRow) -> bool:
    """Whether the same report or registration landed after this dead letter."""
    if row.entity == "report" and row.project_code and row.period:
        landed = index.reports.get((row.project_code, row.period))
    elif row.entity == "project" and row.project_code:
        landed = index.registrations.get(row.project_code)
    elif row.entity == "consortium" and row.consortium_code:
        landed = index.registrations.get(row.consortium_code)
    else:
        return False
    return landed is not None and landed > row.ingested_us


def _notice(row: DeadLetterRow, consortium: str | None, day: date) -> Notice:
    label_ja, label_en = LABELS.get(row.entity or "", UNKNOWN_LABEL) if consortium else UNKNOWN_LABEL
    subject = " ".join(s for s in (row.project_code or consortium, row.period) if s) or "?"
    if row.project_code is None and consortium is None:
        subject = f"{row.topic}[{row.partition}]@{row.offset}"
    fix_ja, fix_en = fix_for(row.error_class)
    message = (row.error_message or "-")[:MESSAGE_CHARS]
    error = row.error_class or "?"
    return Notice(
        DEAD_LETTER,
        consortium,
        row.project_code if row.project_code and PROJECT_CODE.matches(row.project_code) else None,
        row.period,
        title_ja=f"{label_ja}が受け付けられませんでした（{subject}）",
        title_en=f"{label_en} refused ({subject})",
        detail_ja=f"{date_ja(day)}に受付を拒否しました。エラー分類: {error}。内容: {message} 対応: {fix_ja}",
        detail_en=f"Refused on {date_en(day)}. Error class: {error}. Message: {message} What to do: {fix_en}",
        day=day,
        topic=row.topic,
        partition=row.partition,
        offset=row.offset,
        event_id=row.event_id,
    )
