"""Wording shared by the notices and the digest: dates in Japanese and English."""

from __future__ import annotations

from datetime import date


def date_ja(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def date_en(day: date) -> str:
    return day.isoformat()
