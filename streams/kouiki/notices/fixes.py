"""What a secretariat does about each kind of dead letter (the lander's ``error_class``)."""

from __future__ import annotations

_RESUBMIT_JA = "直して再提出してください。"

FIXES: dict[str, tuple[str, str]] = {
    "NotUtf8": (
        "文書を UTF-8 で保存し直して再提出してください（Shift_JIS などは使えません）。",
        "Save the document as UTF-8 (not Shift_JIS) and submit it again.",
    ),
    "InvalidJson": (
        "JSON として読めません。書式（括弧・引用符・カンマ）を" + _RESUBMIT_JA,
        "It is not valid JSON: correct the syntax (brackets, quotes, commas) and submit it again.",
    ),
    "SchemaViolation": (
        "メッセージにある項目（必須項目・型・コードの書式）を様式どおりに" + _RESUBMIT_JA,
        "Correct the fields the message names (required fields, types, code formats) and submit it again.",
    ),
    "RuleViolation": (
        "メッセージにある規則違反（年度・按分比率・都道府県・日付など）を" + _RESUBMIT_JA,
        "Correct what the message names (years, area shares, prefectures, dates) and submit it again.",
    ),
    "UnknownCode": (
        "連携体・事業・KPI を先に登録するか、コードを正しく" + _RESUBMIT_JA,
        "Register the consortium, project or KPI first, or correct the code, then submit it again.",
    ),
    "WrongTopic": (
        "登録と四半期報告の送り先が違います。kouiki の提出ツールかポータルから再提出してください。",
        "Registrations and quarterly reports go to different topics: submit it again with the kouiki tools or "
        "the portal.",
    ),
    "MessageTooLarge": (
        "文書が大きすぎます。分割するか小さくして再提出してください。",
        "The document is too large: split or shrink it and submit it again.",
    ),
    "EmptyMessage": (
        "空のメッセージでした。文書を再提出してください。",
        "The message was empty: submit the document again.",
    ),
    "unsigned": (
        "署名がありません。連携体の署名鍵で署名して再提出してください（kouiki submit とポータルは署名します）。",
        "The event was not signed: submit it again signed with your consortium's key (kouiki submit and the "
        "portal sign it).",
    ),
    "bad_signature": (
        "署名が一致しません。鍵 ID と秘密鍵の組を確認して再提出してください。",
        "The signature does not match: check the key id and secret pair and submit it again.",
    ),
    "unknown_key": (
        "未登録の署名鍵です。運用担当者に有効な鍵の発行を依頼し、再提出してください。",
        "The signing key is unknown: ask the operators for an active key and submit it again.",
    ),
    "revoked_key": (
        "署名鍵が失効しています。運用担当者に新しい鍵の発行を依頼し、再提出してください。",
        "The signing key was revoked: ask the operators for a new key and submit it again.",
    ),
    "not_authorized": (
        "この鍵ではこの文書を書き込めません。文書の連携体の鍵で提出してください。",
        "This key may not write this document: submit it with a key of the consortium it belongs to.",
    ),
}
DEFAULT_FIX = (
    "メッセージの内容を確認し、文書を" + _RESUBMIT_JA,
    "Check the message, correct the document and submit it again.",
)


def fix_for(error_class: str | None) -> tuple[str, str]:
    """``(Japanese, English)``: what to do about a dead letter of this class."""
    return FIXES.get(error_class or "", DEFAULT_FIX)
