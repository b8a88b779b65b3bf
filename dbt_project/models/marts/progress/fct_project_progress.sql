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

projects as (

    select * from {{ ref('int_projects_latest') }}
    {{ changed_projects_only() }}

),

milestone_counts as (

    select
        report_id,
        count(*) as milestones_total,
        count(*) filter (where status = 'done') as milestones_done,
        count(*) filter (where status = 'delayed') as milestones_delayed
    from milestones
    group by report_id

),

joined as (

    select
        reports.project_period_key,
        reports.project_code,
        reports.consortium_code,
        reports.period,
        reports.fiscal_year,
        projects.theme,
        reports.period_end_date,
        reports.status,
        reports.percent_complete,
        coalesce(milestone_counts.milestones_total, 0) as milestones_total,
        coalesce(milestone_counts.milestones_done, 0) as milestones_done,
        coalesce(milestone_counts.milestones_delayed, 0) as milestones_delayed,
        reports.submitted_at,
        reports.event_id as report_event_id,
        reports.version as report_version,
        reports.kafka_topic,
        reports.kafka_partition,
        reports.kafka_offset
    from reports
    left join milestone_counts on reports.report_id = milestone_counts.report_id
    left join projects on reports.project_code = projects.project_code

)

select * from joined
