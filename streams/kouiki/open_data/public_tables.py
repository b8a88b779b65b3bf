"""Which tables and columns of the serving file are open data, and why the others are not.

An allowlist: a table or column is published only when it is named here, so a mart added to the
dbt project stays private until someone decides otherwise (tests/integration/test_open_data.py
fails until every table of ``marts`` and ``reports`` is in :data:`PUBLIC_TABLES` or
:data:`EXCLUDED_TABLES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kouiki.open_data.errors import OpenDataError


@dataclass(frozen=True)
class PublicTable:
    schema: str
    name: str
    optional: bool = False  # published when the serving file has it, skipped otherwise

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


# What a citizen may see: the dimensions and the facts of progress, investment and KPIs.
PUBLIC_TABLES = (
    PublicTable("marts", "dim_prefecture"),
    PublicTable("marts", "dim_consortium"),
    PublicTable("marts", "dim_project"),
    PublicTable("marts", "dim_policy"),
    PublicTable("marts", "dim_logic_model_node"),
    PublicTable("marts", "dim_kpi"),
    PublicTable("marts", "dim_fiscal_period"),
    PublicTable("marts", "fct_investment"),
    PublicTable("marts", "fct_project_progress"),
    PublicTable("marts", "fct_kpi_contribution"),
    PublicTable("marts", "fct_project_kpi_progress"),
    PublicTable("marts", "fct_logic_model_rollup"),
    PublicTable("marts", "mart_prefecture_summary"),
    PublicTable("marts", "fct_consortium_prefecture_year", optional=True),
)

# Never published: table -> why.
EXCLUDED_TABLES = {
    "marts.fct_dead_letter_events": "refused messages with their raw payload (value_preview): anything a sender typed",
    "marts.fct_stuck_partitions": "the broker's operational state, not a figure of the policy",
    "marts.fct_report_submission": (
        "the administration of reporting (which secretariat was late, by how many days); "
        "mart_prefecture_summary has the counts per prefecture"
    ),
    "marts.fct_report_milestone": (
        "milestone titles are free text typed by secretariats; fct_project_progress has the counts"
    ),
    "reports.rpt_consortium_prefecture_year": "Superset's copy of fct_consortium_prefecture_year with labels joined in",
    "reports.rpt_investment_lines": "Superset's copy of fct_investment with labels joined in",
    "reports.rpt_project_progress": "Superset's copy of fct_project_progress with labels joined in",
    "reports.rpt_project_milestones": "Superset's copy of fct_report_milestone: the same free-text titles",
    "reports.rpt_kpi_progress": "Superset's copy of fct_project_kpi_progress with labels joined in",
    "reports.rpt_kpi_contribution_by_prefecture": "Superset's view of the prefecture parts in fct_kpi_contribution",
    "reports.rpt_project_areas": "Superset's project page (事業カルテ); dim_project has each project's prefectures",
    "reports.rpt_report_versions": (
        "every version a secretariat sent, with the broker's coordinates: the administration of reporting"
    ),
}

# Never published, in any table: column -> why.
EXCLUDED_COLUMNS = {
    "submitted_by": "who sent the document: a person's name or e-mail address",
    "kafka_topic": "where the platform's broker kept the event: internal, and changes with a replay",
    "kafka_epoch": "where the platform's broker kept the event: internal, and changes with a replay",
    "kafka_partition": "where the platform's broker kept the event: internal, and changes with a replay",
    "kafka_offset": "where the platform's broker kept the event: internal, and changes with a replay",
}

# A column named like this may hold a person's name or address: it must be decided on (added to
# EXCLUDED_COLUMNS, or renamed in dbt) before anything is published, never published by default.
_PERSONAL = re.compile(r"mail|_by$|^by_|person|contact|user|phone|author|owner")


def public_columns(table: PublicTable, columns: list[str]) -> list[str]:
    """``columns`` of ``table`` without the excluded ones; OpenDataError for one that looks personal."""
    undecided = [c for c in columns if c not in EXCLUDED_COLUMNS and _PERSONAL.search(c)]
    if undecided:
        raise OpenDataError(
            f"{table.qualified} の列 {', '.join(undecided)} は個人情報の可能性があります。公開可否を "
            "kouiki/open_data/public_tables.py で決めてください / column(s) "
            f"{', '.join(undecided)} of {table.qualified} may hold personal data: decide in "
            "kouiki/open_data/public_tables.py (EXCLUDED_COLUMNS) before publishing"
        )
    return [c for c in columns if c not in EXCLUDED_COLUMNS]
