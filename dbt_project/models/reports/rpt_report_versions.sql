{#- Every report version received, with where it sits in Kafka (topic, partition, offset) and
    whether it is the one the figures use: the 事業カルテ's lineage from a figure back to the event. -#}
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

    select * from {{ ref('stg_kafka_lake__reports') }}
    {{ changed_projects_only() }}

),

used as (

    select * from {{ ref('int_reports_deduplicated_to_latest') }}
    {{ changed_projects_only() }}

),

final as (

    select
        reports.report_id,
        reports.consortium_code,
        reports.project_code,
        reports.period,
        reports.fiscal_year,
        reports.version,
        reports.event_id,
        reports.submitted_at,
        reports.kafka_topic,
        reports.kafka_partition,
        reports.kafka_offset,
        reports.kafka_timestamp,
        reports.ingested_at,
        used.report_id is not null as is_used,
        case
            when used.report_id is not null then '集計に使用'
            when used_event.event_id is not null then '再送（同じevent_id）'
            else '新しい版に置換'
        end as usage_name_ja
    from reports
    left join used on reports.report_id = used.report_id
    left join used as used_event
        on
            reports.event_id = used_event.event_id
            and reports.report_id != used_event.report_id

)

select * from final
