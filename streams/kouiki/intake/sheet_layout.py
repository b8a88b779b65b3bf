"""The columns of every sheet the platform writes and reads: the Excel templates (report and
registration) and the CSV sheet. The template writer and the readers share these, so a header the
template writes is always one the readers accept: the Japanese label or the machine key.

A column's ``key`` is the JSON field its value goes to; ``kind`` names its reader in
``cell_values.READERS``; ``role`` says who fills it:

- ``fill``: the secretariat (unlocked in the template); a row with none of these filled is skipped
- ``open``: pre-filled but may be changed (unlocked): the project of a funding line, the version
- ``code``: pre-filled and locked (a project or KPI code)
- ``info``: shown for reference, locked, never read (a project's title, a KPI's target)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

FILL, OPEN, CODE, INFO = "fill", "open", "code", "info"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "code"
    role: str = FILL
    required: bool = True  # the column must be on the sheet (info columns never are)
    width: int = 14

    @property
    def read(self) -> bool:
        return self.role != INFO


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def heading(text: str) -> str:
    """A header cell as compared: NFKC (``金額（円）`` = ``金額(円)``), no spaces, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


_PROJECT = Column("project_code", "事業コード", "code", OPEN, width=18)
_PREF = Column("pref_code", "都道府県", "pref", required=False, width=14)

REPORT = Sheet(
    "報告",
    (
        Column("consortium_code", "連携体コード", "code", CODE, width=16),
        Column("project_code", "事業コード", "code", CODE, width=18),
        Column("title_ja", "事業名", "text", INFO, required=False, width=30),
        Column("period", "期間", "code", CODE, width=12),
        Column("version", "版", "whole", OPEN, width=6),
        Column("status", "状況", "status", width=10),
        Column("percent_complete", "進捗率（%）", "number", width=12),
        Column("summary_ja", "概要", "text", required=False, width=50),
    ),
)
FUNDING = Sheet(
    "資金",
    (
        _PROJECT,
        Column("source_type", "財源", "source_type", width=20),
        Column("stage", "段階", "stage", width=10),
        _PREF,
        Column("amount_jpy", "金額（円）", "yen", width=18),
    ),
)
KPIS = Sheet(
    "KPI",
    (
        Column("project_code", "事業コード", "code", CODE, width=18),
        Column("kpi_code", "KPIコード", "code", CODE, width=16),
        Column("name_ja", "KPI名", "text", INFO, required=False, width=24),
        Column("unit", "単位", "text", INFO, required=False, width=12),
        Column("target", "目標値", "number", INFO, required=False, width=12),
        Column("baseline", "基準値", "number", INFO, required=False, width=12),
        _PREF,
        Column("value", "実績値", "number", width=14),
    ),
)
MILESTONES = Sheet(
    "マイルストーン",
    (
        _PROJECT,
        Column("milestone_code", "マイルストーンコード", "code", width=20),
        Column("title_ja", "名称", "text", width=30),
        Column("planned_date", "予定日", "date", width=12),
        Column("status", "状況", "milestone_status", width=10),
        Column("actual_date", "完了日", "date", required=False, width=12),
    ),
)
REPORT_SHEETS = (REPORT, FUNDING, KPIS, MILESTONES)

PROJECTS = Sheet(
    "事業登録",
    (
        Column("consortium_code", "連携体コード", "code", CODE, width=16),
        Column("project_code", "事業コード", "code", width=18),
        Column("title_ja", "事業名", "text", width=30),
        Column("title_en", "事業名（英語）", "text", required=False, width=30),
        Column("theme", "テーマ", "theme", width=12),
        Column("policy_code", "政策コード", "code", width=12),
        Column("start_fy", "開始年度", "whole", width=10),
        Column("end_fy", "終了年度", "whole", width=10),
        Column("planned_budget_jpy", "計画予算（円）", "yen", width=18),
    ),
)
AREAS = Sheet(
    "登録_地域",
    (
        Column("project_code", "事業コード", "code", width=18),
        Column("pref_code", "都道府県", "pref", width=14),
        Column("share", "按分比率", "number", width=10),
    ),
)
PROJECT_KPIS = Sheet(
    "登録_KPI",
    (
        Column("project_code", "事業コード", "code", width=18),
        Column("kpi_code", "KPIコード", "code", width=16),
        Column("name_ja", "KPI名", "text", width=24),
        Column("unit", "単位", "text", width=10),
        Column("aggregation", "集計方法", "aggregation", width=10),
        Column("direction", "方向", "direction", width=8),
        Column("baseline", "基準値", "number", width=10),
        Column("target", "目標値", "number", width=10),
        Column("target_fy", "目標年度", "whole", width=10),
        Column("contributes_to", "寄与先", "code", width=10),
    ),
)
REGISTRATION_SHEETS = (PROJECTS, AREAS, PROJECT_KPIS)

# The CSV sheet: long format, one row per funding line, KPI value or milestone.
CSV = Sheet(
    "CSV",
    (
        Column("consortium_code", "連携体コード", "code", CODE),
        Column("project_code", "事業コード", "code", CODE),
        Column("period", "期間", "code", CODE),
        Column("version", "版", "whole", CODE),
        Column("status", "状況", "status", required=False),
        Column("percent_complete", "進捗率（%）", "number", required=False),
        Column("summary_ja", "概要", "text", required=False),
        Column("line_type", "行の種類", "line_type"),
        Column("source_type", "財源", "source_type", required=False),
        Column("stage", "段階", "stage", required=False),
        Column("amount_jpy", "金額（円）", "yen", required=False),
        Column("kpi_code", "KPIコード", "code", required=False),
        Column("value", "実績値", "number", required=False),
        _PREF,
        Column("milestone_code", "マイルストーンコード", "code", required=False),
        Column("title_ja", "名称", "text", required=False),
        Column("planned_date", "予定日", "date", required=False),
        Column("milestone_status", "マイルストーン状況", "milestone_status", required=False),
        Column("actual_date", "完了日", "date", required=False),
    ),
)
