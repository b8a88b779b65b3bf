"""Violation messages in English and Japanese: secretariats read Japanese, integrators English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One problem in one document, located by a JSON path such as ``$.funding[2].amount_jpy``."""

    path: str
    message: str
    message_ja: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" + (f" ／ {self.message_ja}" if self.message_ja else "")


_JA_BY_KEYWORD = {
    "required": "必須項目 {missing} がありません",
    "type": "型が違います（{expected} が必要です）",
    "enum": "使用できない値です（使用できる値: {allowed}）",
    "const": "値は {allowed} でなければなりません",
    "pattern": "形式が正しくありません",
    "format": "{format} の形式になっていないか、存在しない日付です",
    "minimum": "値が小さすぎます（最小 {limit}）",
    "exclusiveMinimum": "値は {limit} より大きくなければなりません",
    "maximum": "値が大きすぎます（最大 {limit}）",
    "additionalProperties": "契約にない項目があります",
    "minItems": "要素が足りません（最低 {limit} 件）",
    "maxItems": "要素が多すぎます（最大 {limit} 件）",
    "uniqueItems": "同じ値が重複しています",
    "minLength": "文字数が足りません（最低 {limit} 文字）",
    "maxLength": "文字数が多すぎます（最大 {limit} 文字）",
}
_TYPE_JA = {
    "integer": "整数 integer",
    "number": "数値 number",
    "string": "文字列 string",
    "array": "配列 array",
    "object": "オブジェクト object",
    "boolean": "真偽値 boolean",
}


def japanese_for_schema_error(error: Any) -> str:
    """The Japanese text for one jsonschema ValidationError, chosen by its keyword."""
    keyword = str(error.validator)
    template = _JA_BY_KEYWORD.get(keyword, "契約（スキーマ）に違反しています")
    value = error.validator_value
    missing = ""
    if keyword == "required":
        missing = ", ".join(repr(k) for k in value if isinstance(error.instance, dict) and k not in error.instance)
    allowed = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    expected = _TYPE_JA.get(str(value), str(value))
    return template.format(missing=missing, expected=expected, allowed=allowed, limit=value, format=value)
