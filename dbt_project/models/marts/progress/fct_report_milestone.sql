{#- Milestones of the latest report version of each project × period. -#}
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

milestones as (

    select * from {{ ref('stg_kafka_lake__report_milestones') }}
    {{ changed_projects_only() }}

),

joined as (

    select
        milestones.report_milestone_id,
        reports.project_period_key,
        reports.project_code,
        reports.consortium_code,
        reports.period,
        reports.fiscal_year,
        milestones.milestone_number,
        milestones.milestone_code,
        milestones.title_ja,
        milestones.planned_date,
        milestones.actual_date,
        milestones.status,
        reports.event_id as report_event_id,
        reports.version as report_version,
        reports.kafka_topic,
        reports.kafka_partition,
        reports.kafka_offset
    from milestones
    inner join reports on milestones.report_id = reports.report_id

)

select * from joined
