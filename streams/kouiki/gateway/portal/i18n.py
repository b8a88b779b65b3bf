"""Every label of the portal, Japanese and English, in one catalog. A page is rendered in one
language (``?lang=en`` switches, a cookie remembers it); messages about a user's data show both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JA, EN = "ja", "en"
LANGUAGES = (JA, EN)
COOKIE = "kouiki_lang"

CATALOG: dict[str, tuple[str, str]] = {
    "site": ("広域リージョン連携 報告ポータル", "Kouiki reporting portal"),
    "skip": ("本文へ移動", "Skip to main content"),
    "nav.home": ("ホーム", "Home"),
    "nav.templates": ("様式ダウンロード", "Templates"),
    "nav.submit": ("提出", "Submit"),
    "nav.history": ("提出履歴", "History"),
    "nav.notices": ("お知らせ", "Notices"),
    "nav.logout": ("ログアウト", "Log out"),
    "nav.language": ("言語", "Language"),
    "nav.label": ("メニュー", "Main menu"),
    "login.title": ("ログイン", "Log in"),
    "login.username": ("ユーザー名", "Username"),
    "login.password": ("パスワード", "Password"),
    "login.submit": ("ログイン", "Log in"),
    "login.hint": (
        "運用者から受け取ったユーザー名とパスワードを入力してください。",
        "Enter the username and password your operator gave you.",
    ),
    "login.failed": (
        "ユーザー名またはパスワードが違います。",
        "The username or password is wrong.",
    ),
    "home.title": ("ホーム", "Home"),
    "home.who": ("ログイン中のユーザー", "Logged in as"),
    "home.kind": ("種別", "Role"),
    "home.consortia": ("担当連携体", "Consortia"),
    "home.none": ("なし", "none"),
    "home.all": ("すべて閲覧できます（送信はできません）", "Reads everything (cannot submit here)"),
    "home.latest": ("最新のお知らせ", "Latest notices"),
    "home.more": ("お知らせをすべて見る", "See all notices"),
    "kind.secretariat": ("事務局", "Secretariat"),
    "kind.operator": ("運用者", "Operator"),
    "kind.cabinet": ("内閣府", "Cabinet Office"),
    "templates.title": ("様式ダウンロード", "Download templates"),
    "templates.intro": (
        "四半期報告の様式（Excel、連携体と事業を記入済み）と、事業登録の白紙様式をダウンロードできます。",
        "Download the quarterly report workbook (Excel, pre-filled with your consortium and projects) "
        "and the blank project registration workbook.",
    ),
    "templates.consortium": ("連携体", "Consortium"),
    "templates.period": ("報告期間（四半期）", "Reporting period (quarter)"),
    "templates.due": ("提出期限", "due"),
    "templates.report": ("四半期報告の様式をダウンロード（.xlsx）", "Download the quarterly report (.xlsx)"),
    "templates.registration": (
        "事業登録の様式をダウンロード（.xlsx）",
        "Download the project registration (.xlsx)",
    ),
    "templates.none": ("ダウンロードできる様式はありません。", "There is no template for you to download."),
    "submit.title": ("提出", "Submit"),
    "submit.intro": (
        "記入した様式（.xlsx）か CSV（UTF-8 または Shift_JIS）、JSON、JSON Lines を選んでください。"
        "まず内容を確認し、送信するのは確認後です。",
        "Choose a filled-in workbook (.xlsx), a CSV sheet (UTF-8 or Shift_JIS), JSON or JSON Lines. "
        "It is checked first; nothing is sent until you confirm.",
    ),
    "submit.file": ("ファイル", "File"),
    "submit.check": ("内容を確認する", "Check the file"),
    "submit.limit": ("（上限 {limit}）", "(at most {limit})"),
    "submit.kinds": (
        "Excel（.xlsx）、CSV（.csv）、JSON（.json / .jsonl）",
        "Excel (.xlsx), CSV (.csv), JSON (.json / .jsonl)",
    ),
    "check.title": ("確認結果", "Check result"),
    "check.summary": (
        "{total} 件中、問題なし {ok} 件、問題あり {bad} 件",
        "{total} documents: {ok} OK, {bad} with problems",
    ),
    "check.problems": ("問題の一覧", "Problems"),
    "check.location": ("場所", "Location"),
    "check.message": ("内容", "Problem"),
    "check.document": ("文書", "Document"),
    "check.project": ("事業", "Project"),
    "check.period": ("期間", "Period"),
    "check.summary_column": ("概要", "Summary"),
    "check.english": ("英語の説明", "English"),
    "check.ok": ("問題なし", "OK"),
    "check.confirm": ("送信する", "Send"),
    "check.all_ok": ("すべての文書に問題はありません。送信してよろしいですか。", "Every document is fine. Send them?"),
    "check.partial": (
        "問題のある {bad} 件は送信されません。送信すると、問題のない {ok} 件だけが送信されます。"
        "すべて送るには、ファイルを修正してもう一度アップロードしてください。",
        "The {bad} documents with problems will not be sent: sending now sends only the {ok} valid ones. "
        "To send all, fix the file and upload it again.",
    ),
    "check.nothing": (
        "送信できる文書がありません。ファイルを修正してもう一度アップロードしてください。",
        "No document can be sent. Fix the file and upload it again.",
    ),
    "check.unreadable": ("ファイルを読み込めませんでした", "The file could not be read"),
    "check.again": ("別のファイルをアップロードする", "Upload another file"),
    "check.expires": ("この確認結果は1時間有効です。", "This check is kept for one hour."),
    "history.title": ("提出履歴", "Submission history"),
    "history.none": ("まだ提出はありません。", "No submissions yet."),
    "history.when": ("日時（日本時間）", "When (JST)"),
    "doc.report": ("四半期報告", "quarterly report"),
    "doc.project": ("事業登録", "project registration"),
    "doc.consortium": ("連携体登録", "consortium registration"),
    "history.by": ("提出者", "By"),
    "history.documents": ("文書数", "Documents"),
    "history.sent": ("送信", "Sent"),
    "history.rejected": ("却下", "Rejected"),
    "history.projects": ("事業", "Projects"),
    "history.periods": ("期間", "Periods"),
    "history.detail": ("詳細", "Details"),
    "history.submission": ("提出 {id}", "Submission {id}"),
    "history.status": ("状態", "Status"),
    "history.record": ("番号", "No."),
    "history.kind": ("種類", "Kind"),
    "history.consortium": ("連携体", "Consortium"),
    "history.receipt": ("受付番号", "Receipt"),
    "history.hidden": (
        "閲覧権限のない他の連携体の文書 {n} 件は表示していません。",
        "{n} documents of other consortia you may not read are not shown.",
    ),
    "history.back": ("提出履歴に戻る", "Back to the history"),
    "history.sent_note": (
        "送信済の文書は取り込み後に「取込済」、ダッシュボード反映後に「反映済」になります。",
        "Sent documents become landed once ingested, and published once on the dashboards.",
    ),
    "status.sent": ("送信済", "sent"),
    "status.landed": ("取込済", "landed"),
    "status.published": ("反映済", "published"),
    "status.dead_lettered": ("エラー", "error"),
    "status.rejected": ("却下", "rejected"),
    "fix.title": ("対処", "What to do"),
    "fix.UnknownCode": (
        "登録されていないコードがあります。先に事業登録を提出してから、もう一度提出してください。",
        "A code is not registered: submit the project registration first, then this report again.",
    ),
    "fix.default": (
        "内容を修正して、版（version）を上げてもう一度提出してください。わからない場合は運用者に連絡してください。",
        "Fix the content, raise the version and submit again; ask your operator if unsure.",
    ),
    "notices.title": ("お知らせ", "Notices"),
    "notices.none": ("お知らせはありません。", "No notices."),
    "notices.count": ("未読のお知らせ {n} 件", "{n} notices"),
    "notice.dead_letter": ("エラー", "Error"),
    "notice.report_due": ("提出期限が近づいています", "Due soon"),
    "notice.report_overdue": ("提出期限を過ぎています", "Overdue"),
    "error.title": ("エラー", "Error"),
    "error.home": ("ホームに戻る", "Back to the home page"),
    "error.400": ("リクエストが正しくありません。", "The request is not valid."),
    "error.403": ("この操作は許可されていません。", "You may not do this."),
    "error.403.csrf": (
        "フォームの有効期限が切れたか、不正な送信です。ページを開き直してもう一度操作してください。",
        "The form expired or did not come from this site. Reload the page and try again.",
    ),
    "error.403.submit": (
        "このアカウントはポータルから提出できません（提出は事務局のみ）。",
        "This account cannot submit from the portal (secretariats only).",
    ),
    "error.403.consortium": (
        "この連携体の様式はダウンロードできません。",
        "You may not download this consortium's templates.",
    ),
    "error.404": ("ページが見つかりません。", "The page was not found."),
    "error.404.upload": (
        "確認結果が見つかりません（1時間で期限切れになります）。もう一度アップロードしてください。",
        "The checked file was not found (it is kept for one hour). Upload it again.",
    ),
    "error.405": ("このメソッドは使えません。", "This method is not allowed."),
    "error.413": (
        "ファイルが大きすぎます（上限 {limit}）。分割して提出してください。",
        "The file is too large (limit {limit}). Split it and submit the parts.",
    ),
    "error.415": (
        "この形式のファイルは受け付けません（.xlsx、.csv、.json、.jsonl のみ）。",
        "This kind of file is not accepted (.xlsx, .csv, .json, .jsonl only).",
    ),
    "error.429": (
        "ログインの失敗が多すぎます。{wait} 秒後にもう一度お試しください。",
        "Too many failed logins. Try again in {wait} seconds.",
    ),
    "error.500": (
        "内部エラーが発生しました。時間をおいて再度お試しください。続く場合は運用者に連絡してください。",
        "An internal error occurred. Try again later; if it persists, contact your operator.",
    ),
    "error.503": (
        "ブローカーに接続できません。何も送信されていません。しばらくしてから「送信する」をもう一度押してください。",
        "The broker cannot be reached; nothing was sent. Press Send again in a while.",
    ),
}


def text(lang: str, key: str, **values: Any) -> str:
    """The label ``key`` in ``lang`` (Japanese when unknown), with ``values`` filled in."""
    ja, en = CATALOG[key]
    return (en if lang == EN else ja).format(**values)


def advice(lang: str, error_class: str | None) -> str:
    """What to do about a dead letter of ``error_class``."""
    key = f"fix.{error_class}"
    return text(lang, key if key in CATALOG else "fix.default")


def document_kind(lang: str, kind: str | None) -> str:
    """``report``, ``project`` or ``consortium`` as a secretariat calls it."""
    key = f"doc.{kind}"
    return text(lang, key) if key in CATALOG else (kind or "")


def both(key: str, **values: Any) -> tuple[str, str]:
    """The label in Japanese and English, for messages shown in both."""
    return text(JA, key, **values), text(EN, key, **values)


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: Any) -> str:
        return text(lang, key, **values)

    return t


def chosen(query: str | None, cookie: str | None) -> str:
    """The page language: ``?lang=`` first, then the cookie, else Japanese."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return JA
