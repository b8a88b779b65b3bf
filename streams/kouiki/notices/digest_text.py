"""The daily digest e-mail of one consortium: Japanese first, the English beside it, plain text."""

from __future__ import annotations

from datetime import date

from kouiki.config import Settings
from kouiki.notices.notice import Notice
from kouiki.notices.text import date_en, date_ja

PORTAL_HOST = "127.0.0.1"  # as kouiki.services.portal serves it (a layer above notices)


def portal_notices_url(settings: Settings) -> str:
    return f"http://{PORTAL_HOST}:{settings.portal_port}/notices"


def subject(consortium_code: str, day: date, count: int) -> str:
    return f"【Kouiki】お知らせ {count}件（{consortium_code}、{date_ja(day)}）/ {count} notices for {consortium_code}"


def body(settings: Settings, consortium_code: str, day: date, notices: list[Notice]) -> str:
    lines = [
        f"{consortium_code} 事務局 御中 / To the secretariat of {consortium_code}",
        "",
        f"{date_ja(day)}現在、対応が必要なお知らせが {len(notices)} 件あります。",
        f"As of {date_en(day)}, there {'is 1 notice' if len(notices) == 1 else f'are {len(notices)} notices'} "
        "to act on.",
        "",
    ]
    for number, notice in enumerate(notices, 1):
        lines += [
            f"{number}. {notice.title_ja}",
            f"   {notice.title_en}",
            f"   {notice.detail_ja}",
            f"   {notice.detail_en}",
        ]
        if notice.topic is not None:
            where = f"{notice.topic}[{notice.partition}] offset {notice.offset}"
            lines.append(f"   Kafka: {where}" + (f", event_id {notice.event_id}" if notice.event_id else ""))
        lines.append("")
    lines += [
        f"ポータルで確認する / See them in the portal: {portal_notices_url(settings)}",
        "",
        "このメールは Kouiki から1日1回、お知らせがある日に自動で送信しています。",
        "Kouiki sends this e-mail automatically, once a day on days with notices.",
    ]
    return "\n".join(lines) + "\n"
