{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_projects() }}"
    )
}}

{#- Incremental by project: a build redoes only the projects int_projects_changed lists. -#}
-- depends_on: {{ ref('int_projects_changed') }}

with

reports as (

    select * from {{ ref('int_reports_deduplicated_to_latest') }}
    {{ changed_projects_only() }}

),

funding_lines as (

    select * from {{ ref('stg_kafka_lake__report_funding_lines') }}
    {{ changed_projects_only() }}

),

joined as (

    select
        funding_lines.funding_line_id,
        funding_lines.line_number,
        reports.project_code,
        reports.consortium_code,
        reports.period,
        reports.fiscal_year,
        funding_lines.source_type,
        funding_lines.stage,
        funding_lines.pref_code,
        funding_lines.amount_jpy,
        reports.submitted_at as report_submitted_at,
        reports.event_id as report_event_id,
        reports.version as report_version,
        reports.kafka_topic,
        reports.kafka_partition,
        reports.kafka_offset
    from reports
    inner join funding_lines on reports.report_id = funding_lines.report_id

)

select * from joined
