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

labels as (

    select * from {{ ref('rpt_code_labels') }}

),

classified as (

    select
        reports.*,
        used.report_id is not null as is_used,
        case
            when used.report_id is not null then 'used'
            when used_event.event_id is not null then 'resent'
            else 'superseded'
        end as report_use
    from reports
    left join used on reports.report_id = used.report_id
    left join used as used_event
        on
            reports.event_id = used_event.event_id
            and reports.report_id != used_event.report_id

),

final as (

    select
        classified.report_id,
        classified.consortium_code,
        classified.project_code,
        classified.period,
        classified.fiscal_year,
        classified.version,
        classified.event_id,
        classified.submitted_at,
        classified.kafka_topic,
        classified.kafka_partition,
        classified.kafka_offset,
        classified.kafka_timestamp,
        classified.ingested_at,
        classified.is_used,
        use_label.name_ja as usage_name_ja
    from classified
    left join labels as use_label
        on use_label.code_label_key = 'report_use:' || classified.report_use

)

select * from final
