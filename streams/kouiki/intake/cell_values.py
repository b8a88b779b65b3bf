"""Values typed into a spreadsheet, read the way a secretariat means them, for the CSV and the Excel
reader alike: ``¥12,000,000`` and ``１２０００`` are yen, ``2026/7/1`` is a date, ``順調`` is
``on_track`` and ``13 東京都`` is prefecture ``13``. A value that cannot be read raises ``CellError``
in English and Japanese; the reader adds the cell.

``LABELS`` is the one table of Japanese labels the template's drop-downs show and the readers
accept beside the codes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

# JIS X 0401 (as dbt_project/seeds/prefectures.csv)
PREFECTURES = {
    "01": "北海道", "02": "青森県", "03": "岩手県", "04": "宮城県", "05": "秋田県", "06": "山形県",
    "07": "福島県", "08": "茨城県", "09": "栃木県", "10": "群馬県", "11": "埼玉県", "12": "千葉県",
    "13": "東京都", "14": "神奈川県", "15": "新潟県", "16": "富山県", "17": "石川県", "18": "福井県",
    "19": "山梨県", "20": "長野県", "21": "岐阜県", "22": "静岡県", "23": "愛知県", "24": "三重県",
    "25": "滋賀県", "26": "京都府", "27": "大阪府", "28": "兵庫県", "29": "奈良県", "30": "和歌山県",
    "31": "鳥取県", "32": "島根県", "33": "岡山県", "34": "広島県", "35": "山口県", "36": "徳島県",
    "37": "香川県", "38": "愛媛県", "39": "高知県", "40": "福岡県", "41": "佐賀県", "42": "長崎県",
    "43": "熊本県", "44": "大分県", "45": "宮崎県", "46": "鹿児島県", "47": "沖縄県",
}  # fmt: skip
_PREF_BY_NAME = {name: code for code, name in PREFECTURES.items()}

# code -> the label the template's drop-down shows. Stage labels are provisional (one edit here).
LABELS: dict[str, dict[str, str]] = {
    "status": {
        "not_started": "未着手",
        "on_track": "順調",
        "at_risk": "要注意",
        "delayed": "遅延",
        "completed": "完了",
        "suspended": "中断",
    },
    "milestone_status": {
        "not_started": "未着手",
        "on_track": "順調",
        "delayed": "遅延",
        "done": "完了",
        "dropped": "中止",
    },
    "source_type": {
        "national_grant": "国の交付金",
        "prefecture": "都道府県",
        "municipality": "市町村",
        "private": "民間",
        "corporate_furusato": "企業版ふるさと納税",
        "loan": "融資",
        "other": "その他",
    },
    # 交付決定: the amount a grant decision commits (補助金適正化法 §6); 確定 would read as the amount
    # settled after completion (§15), which comes after execution
    "stage": {"planned": "計画", "committed": "交付決定", "executed": "執行"},
    "theme": {
        "TOURISM": "観光",
        "INDUSTRY": "産業振興",
        "GX": "GX",
        "DX": "DX",
        "TALENT": "人材",
        "TRANSPORT": "交通",
        "INFRA": "基盤整備",
        "MEDICAL": "医療",
        "FOOD_EXPORT": "食・輸出",
        "LOGISTICS": "物流",
        "DISASTER": "防災",
        "OTHER": "その他",
    },
    "aggregation": {"sum": "合計", "latest": "最新値", "max": "最大値", "mean": "平均"},
    "direction": {"increase": "増加", "decrease": "減少"},
    "line_type": {"funding": "資金", "kpi": "KPI", "milestone": "マイルストーン"},  # the CSV sheet's rows
}
# Labels of earlier templates, still read as what they meant: workbooks already filled in keep working.
EARLIER_LABELS = {"stage": {"確定": "committed"}}
_CODE_BY_TEXT = {
    kind: {**EARLIER_LABELS.get(kind, {}), **{v: k for k, v in labels.items()}, **{k: k for k in labels}}
    for kind, labels in LABELS.items()
}

_DIGITS = re.compile(r"^\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$")


class CellError(ValueError):
    """A cell value that cannot be read, in English and Japanese."""

    def __init__(self, en: str, ja: str) -> None:
        super().__init__(en)
        self.en, self.ja = en, ja


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """The value as NFKC text without surrounding spaces (full-width digits and letters to ASCII)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _shown(value: Any) -> str:
    return repr(value if isinstance(value, str) else str(value))


def yen(value: Any) -> int:
    """A whole, non-negative number of yen: ``12000000``, ``12,000,000``, ``¥12,000,000``, ``12,000,000円``."""
    if isinstance(value, bool):
        raise _not_yen(value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise _not_yen(value)
        number = int(value)
    else:
        # A yen sign typed in Shift_JIS (CP932) is byte 0x5C, which decodes as a backslash.
        text = _text(value).replace(",", "").lstrip("¥\\").removesuffix("円").strip()
        if not _DIGITS.match(text):
            raise _not_yen(value)
        number = int(text)
    if number < 0:
        raise CellError(
            f"{_shown(value)} is negative; amounts are 0 or more yen", f"{_shown(value)} は負の値です（0円以上）"
        )
    return number


def _not_yen(value: Any) -> CellError:
    return CellError(
        f"{_shown(value)} is not a whole number of yen (e.g. 12,000,000)",
        f"{_shown(value)} は円単位の整数ではありません（例: 12,000,000）",
    )


def number(value: Any) -> float:
    """A number: ``42``, ``1,234.5``, ``１２``; ``50%`` reads as 50 (percent columns hold 0-100)."""
    if isinstance(value, bool):
        raise _not_number(value)
    if isinstance(value, int | float):
        return float(value)
    text = _text(value).replace(",", "").removesuffix("%").strip()
    if not _DECIMAL.match(text):
        raise _not_number(value)
    return float(text)


def _not_number(value: Any) -> CellError:
    return CellError(f"{_shown(value)} is not a number", f"{_shown(value)} は数値ではありません")


def whole(value: Any) -> int:
    """A whole number (a version, a fiscal year)."""
    result = number(value)
    if not result.is_integer():
        raise CellError(f"{_shown(value)} is not a whole number", f"{_shown(value)} は整数ではありません")
    return int(result)


def day(value: Any) -> str:
    """A date as ``YYYY-MM-DD``: an Excel date cell, or text ``2026/7/1`` or ``2026-07-01``."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    match = _DATE.match(_text(value))
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
        except ValueError:
            pass
    raise CellError(
        f"{_shown(value)} is not a date (e.g. 2026/7/1 or 2026-07-01)",
        f"{_shown(value)} は日付ではありません（例: 2026/7/1 または 2026-07-01）",
    )


def code(value: Any) -> str:
    """A code (project, KPI, milestone, period): full-width letters, digits and dashes to ASCII."""
    return _text(value)


def text(value: Any) -> str:
    """Free text as typed, without surrounding spaces (a number typed into it is kept as written)."""
    if isinstance(value, datetime | date):
        return day(value)
    return str(int(value) if isinstance(value, float) and value.is_integer() else value).strip()


def pref(value: Any) -> str:
    """A prefecture code: ``13``, ``13 東京都`` or ``東京都``."""
    given = _text(value)
    head = given.split(" ", 1)[0]
    if head.isdigit() and 1 <= int(head) <= 47:
        return f"{int(head):02d}"
    if given in _PREF_BY_NAME:
        return _PREF_BY_NAME[given]
    raise CellError(
        f"{_shown(value)} is not a prefecture (a code 01-47 or a name such as 東京都)",
        f"{_shown(value)} は都道府県として読めません（01〜47 のコード、または 東京都 などの名称）",
    )


def pref_choice(code_: str) -> str:
    """How the template's drop-down shows a prefecture: ``13 東京都``."""
    return f"{code_} {PREFECTURES[code_]}"


def enumeration(kind: str) -> Callable[[Any], str]:
    """A reader of one enumeration (``status``, ``stage``...): its code or its Japanese label."""
    accepted = _CODE_BY_TEXT[kind]

    def read(value: Any) -> str:
        given = _text(value)
        if given in accepted:
            return accepted[given]
        choices = "、".join(LABELS[kind].values())
        raise CellError(
            f"{_shown(value)} is not one of: {', '.join(LABELS[kind])} (or {choices})",
            f"{_shown(value)} は選択肢にありません（{choices}）",
        )

    return read


Reader = Callable[[Any], Any]
READERS: dict[str, Reader] = {
    "yen": yen,
    "number": number,
    "whole": whole,
    "date": day,
    "code": code,
    "text": text,
    "pref": pref,
    **{kind: enumeration(kind) for kind in LABELS},
}
