with

registry_events as (

    select * from {{ ref('base_kafka_lake__registry_events') }}

),

projects as (

    select * from registry_events
    where document ->> '$.entity' = 'project'

),

renamed as (

    select
        kafka_message_id as project_registration_id,
        document ->> '$.event_id' as event_id,
        document ->> '$.schema_version' as schema_version,
        cast(document ->> '$.submitted_at' as timestamptz) as submitted_at,
        document ->> '$.submitted_by' as submitted_by,
        project_code,
        document ->> '$.consortium_code' as consortium_code,
        document ->> '$.title_ja' as title_ja,
        document ->> '$.title_en' as title_en,
        document ->> '$.theme' as theme,
        document ->> '$.policy_code' as policy_code,
        cast(document ->> '$.start_fy' as integer) as start_fy,
        cast(document ->> '$.end_fy' as integer) as end_fy,
        cast(document ->> '$.planned_budget_jpy' as bigint) as planned_budget_jpy,
        coalesce(json_array_length(document, '$.kpis'), 0) as kpis_count,
        kafka_topic,
        kafka_epoch,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        ingested_at
    from projects

)

select * from renamed
