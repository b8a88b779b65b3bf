{{
    config(
        materialized='incremental',
        on_schema_change='fail'
    )
}}

{#- The builds (loaded_by) whose loaded messages every project-keyed incremental model has taken in.
    It runs after them all (depends_on below), so a build that fails part way is not recorded and
    the next build redoes its projects; redoing is idempotent (delete, then insert). -#}
-- depends_on: {{ ref('int_reports_deduplicated_to_latest') }}
-- depends_on: {{ ref('int_report_submissions_summarised') }}
-- depends_on: {{ ref('int_project_status_by_fiscal_year') }}
-- depends_on: {{ ref('int_funding_lines_latest') }}
-- depends_on: {{ ref('int_kpi_values_latest') }}
-- depends_on: {{ ref('int_funding_lines_allocated_to_prefectures') }}
-- depends_on: {{ ref('int_kpi_values_allocated_to_prefectures') }}
-- depends_on: {{ ref('fct_investment') }}
-- depends_on: {{ ref('fct_kpi_contribution') }}
-- depends_on: {{ ref('rpt_investment_lines') }}
-- depends_on: {{ ref('fct_project_progress') }}
-- depends_on: {{ ref('fct_report_milestone') }}
-- depends_on: {{ ref('rpt_project_progress') }}
-- depends_on: {{ ref('rpt_project_milestones') }}

with

loads as (

    select loaded_by from {{ ref('base_kafka_lake__report_events') }}
    union
    select loaded_by from {{ ref('base_kafka_lake__registry_events') }}

),

new_loads as (

    select loaded_by from loads
    {% if is_incremental() -%}
        where loaded_by not in (select consumed.loaded_by from {{ this }} as consumed)
    {%- endif %}

)

select
    loaded_by,
    cast({{ dbt.current_timestamp() }} as timestamptz) as consumed_at
from new_loads
