{#- Milestones of the latest report version of each project × period. -#}
with

reports as (

    select * from {{ ref('int_reports_deduplicated_to_latest') }}

),

milestones as (

    select * from {{ ref('stg_kafka_lake__report_milestones') }}

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
