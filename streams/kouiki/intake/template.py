"""The Excel templates secretariats fill in: the quarterly report of a consortium, pre-filled from
what is registered (``intake.registered``), and a blank project registration. Their sheets are the
ones ``intake.workbook`` reads (``intake.sheet_layout``).

Each sheet has a title row, the Japanese headers, a hidden row of machine keys, then the rows.
Codes and reference columns are locked (the sheets are protected without a password, only the
cells to fill are unlocked), choices are drop-downs fed from the hidden sheet ``選択肢``, and every
text the platform writes goes through ``safe_text.put`` so a registered title can never be a
formula."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils.cell import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from kouiki.config import Settings
from kouiki.contract.periods import due_date, parse_quarter
from kouiki.intake.cell_values import LABELS, PREFECTURES, pref_choice
from kouiki.intake.registered import Prefill, prefill
from kouiki.intake.safe_text import put
from kouiki.intake.sheet_layout import (
    AREAS,
    CODE,
    FUNDING,
    INFO,
    KPIS,
    MILESTONES,
    PROJECT_KPIS,
    PROJECTS,
    REPORT,
    Sheet,
)

FIRST_ROW = 4  # title, headers, machine keys, then the rows
FUNDING_ROWS_PER_PROJECT = 3
MILESTONE_ROWS_PER_PROJECT = 2
SPARE_ROWS = 100  # unlocked rows with drop-downs below the pre-filled ones, for more lines
REGISTRATION_ROWS = 20
CHOICES = "選択肢"
_HEADER = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TO_FILL = PatternFill("solid", fgColor="FFF2CC")
_UNLOCKED = Protection(locked=False)
_NUMBER_FORMATS = {"yen": "#,##0", "date": "yyyy/m/d"}


def report_workbook(settings: Settings, consortium_code: str, period: str, *, today: date | None = None) -> bytes:
    """The report template of ``consortium_code`` for the fiscal quarter ``period`` (``FY2026Q3``)."""
    parse_quarter(period)  # ValueError for anything but a quarter
    return report_workbook_of(prefill(settings, consortium_code, period), today=today)


def report_workbook_of(data: Prefill, *, today: date | None = None) -> bytes:
    book = Workbook()
    codes = [p.project_code for p in data.projects]
    choices = _Choices(book, codes)
    due = due_date(data.period)
    _instructions(
        book,
        [
            f"四半期報告様式　連携体 {data.consortium_code}　期間 {data.period}",
            f"提出期限: {due:%Y年%m月%d日}" + (f"（作成日 {today:%Y年%m月%d日}）" if today else ""),
            "",
            "記入するセル（黄色）だけを記入してください。コードと参考情報の列は保護されています（パスワードなし）。",
            "「報告」: 事業ごとに 状況（一覧から選択）、進捗率（0〜100 の数値）、概要 を記入します。",
            "「資金」: 財源・段階（一覧から選択）と 金額（円単位の整数。例: 12,000,000）を記入します。"
            "行が足りなければ下の空き行に事業コードを選んで記入します。都道府県は任意です。",
            "「KPI」: 登録された KPI ごとに 実績値 を記入します。目標値・基準値は参考です。",
            "「マイルストーン」: 前回までの内容が入っています。状況・完了日を更新し、新しいものは空き行に追加します。",
            "日付は 2026/7/1 の形式、金額は円単位の整数、進捗率は 0〜100 で記入します。",
            "記入していない事業は報告されません（資金・KPI のいずれかを記入した事業は 状況・進捗率 も必要です）。",
            "",
            "送付方法: このファイル（.xlsx のまま）をポータルからアップロードするか、"
            "kouiki submit で送信してください。送信前に内容が検査され、誤りはセル番地（例: 資金!E9）で示されます。",
        ],
    )
    titles = {p.project_code: p.title_ja for p in data.projects}
    report_rows = [
        {
            "consortium_code": data.consortium_code,
            "project_code": code,
            "title_ja": titles[code],
            "period": data.period,
            "version": data.versions.get(code, 1),
        }
        for code in codes
    ]
    _sheet(book, REPORT, f"報告　{data.consortium_code}　{data.period}", report_rows, choices, spare=0)
    funding = [{"project_code": c} for c in codes for _ in range(FUNDING_ROWS_PER_PROJECT)]
    _sheet(book, FUNDING, "資金（財源・段階ごとに1行）", funding, choices)
    kpis = [
        {
            "project_code": p.project_code,
            "kpi_code": k.kpi_code,
            "name_ja": k.name_ja,
            "unit": k.unit,
            "target": k.target,
            "baseline": k.baseline,
        }
        for p in data.projects
        for k in p.kpis
    ]
    _sheet(book, KPIS, "KPI 実績値", kpis, choices, spare=0)
    milestones: list[dict[str, Any]] = []
    for code in codes:
        for m in data.milestones.get(code, []):
            milestones.append(
                {
                    "project_code": code,
                    "milestone_code": m.milestone_code,
                    "title_ja": m.title_ja,
                    "planned_date": date.fromisoformat(m.planned_date),
                    "status": LABELS["milestone_status"][m.status],
                    "actual_date": date.fromisoformat(m.actual_date) if isinstance(m.actual_date, str) else None,
                }
            )
        milestones.extend({"project_code": code} for _ in range(MILESTONE_ROWS_PER_PROJECT))
    _sheet(book, MILESTONES, "マイルストーン", milestones, choices)
    return _saved(book)


def registration_workbook(consortium_code: str) -> bytes:
    """A blank project registration template for ``consortium_code``."""
    book = Workbook()
    choices = _Choices(book, [])
    _instructions(
        book,
        [
            f"事業登録様式　連携体 {consortium_code}",
            "",
            "「事業登録」: 1事業1行。事業コードは 連携体コード-P01 の形式（例: "
            f"{consortium_code}-P01）、テーマは一覧から選択、年度は西暦（例: 2026）、予算は円単位の整数です。",
            "「登録_地域」: 事業ごとに 都道府県 と 按分比率（0 より大きく 1 以下、合計 1）を1行ずつ記入します。",
            "「登録_KPI」: 事業ごとの KPI を1行ずつ記入します（集計方法・方向は一覧から選択）。",
            "",
            "送付方法: このファイル（.xlsx のまま）をポータルからアップロードするか、"
            "kouiki submit で送信してください。",
        ],
    )
    _sheet(
        book,
        PROJECTS,
        f"事業登録　{consortium_code}",
        [{"consortium_code": consortium_code}] * REGISTRATION_ROWS,
        choices,
    )
    _sheet(book, AREAS, "登録_地域", [], choices)
    _sheet(book, PROJECT_KPIS, "登録_KPI", [], choices)
    return _saved(book)


class _Choices:
    """The hidden sheet of drop-down lists; ``formula(kind)`` is the range a validation points at."""

    def __init__(self, book: Workbook, project_codes: Sequence[str]) -> None:
        self.sheet = book.create_sheet(CHOICES)
        self.sheet.sheet_state = "hidden"
        lists: dict[str, list[str]] = {kind: list(labels.values()) for kind, labels in LABELS.items()}
        lists["pref"] = [pref_choice(code) for code in PREFECTURES]
        lists["project_code"] = list(project_codes)
        self.columns: dict[str, str] = {}
        for index, (kind, values) in enumerate(lists.items(), start=1):
            letter = get_column_letter(index)
            put(self.sheet.cell(1, index), kind)
            for row, value in enumerate(values, start=2):
                put(self.sheet.cell(row, index), value)
            if values:
                self.columns[kind] = f"'{CHOICES}'!${letter}$2:${letter}${len(values) + 1}"

    def formula(self, kind: str) -> str | None:
        return self.columns.get(kind)


def _instructions(book: Workbook, lines: list[str]) -> None:
    sheet = book.worksheets[0]  # the sheet a new workbook opens on
    sheet.title = "説明"
    for row, line in enumerate(lines, start=1):
        put(sheet.cell(row, 1), line)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 120


def _sheet(
    book: Workbook, layout: Sheet, title: str, rows: list[dict[str, Any]], choices: _Choices, spare: int = SPARE_ROWS
) -> None:
    sheet = book.create_sheet(layout.name, len(book.sheetnames) - 1)  # before the hidden choices
    put(sheet.cell(1, 1), title)
    sheet.cell(1, 1).font = Font(bold=True)
    last = FIRST_ROW + len(rows) + spare - 1
    for index, column in enumerate(layout.columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(2, index)
        put(header, column.label)
        header.font, header.fill = _HEADER, _HEADER_FILL
        header.alignment = Alignment(wrap_text=True)
        put(sheet.cell(3, index), column.key)
        sheet.column_dimensions[letter].width = column.width
        fill_in = column.role not in (CODE, INFO)
        number_format = _NUMBER_FORMATS.get(column.kind)
        for row_number in range(FIRST_ROW, last + 1):
            cell = sheet.cell(row_number, index)
            if fill_in:
                cell.protection = _UNLOCKED
                cell.fill = _TO_FILL
            if number_format:
                cell.number_format = number_format
        formula = choices.formula("project_code" if column.key == "project_code" else column.kind)
        if fill_in and formula and last >= FIRST_ROW:
            validation = DataValidation(
                type="list",
                formula1=formula,
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="入力エラー / invalid value",
                error="一覧から選んでください / choose from the list",
            )
            validation.add(f"{letter}{FIRST_ROW}:{letter}{last}")
            sheet.add_data_validation(validation)
    keys = [c.key for c in layout.columns]
    for row_number, values in enumerate(rows, start=FIRST_ROW):
        for index, key in enumerate(keys, start=1):
            if values.get(key) is not None:
                put(sheet.cell(row_number, index), values[key])
    sheet.row_dimensions[3].hidden = True
    sheet.freeze_panes = f"A{FIRST_ROW}"
    sheet.protection.sheet = True


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
