with

registry_events as (

    select * from {{ ref('base_kafka_lake__registry_events') }}

),

consortia as (

    select * from registry_events
    where document ->> '$.entity' = 'consortium'

),

renamed as (

    select
        kafka_message_id as consortium_registration_id,
        document ->> '$.event_id' as event_id,
        document ->> '$.schema_version' as schema_version,
        cast(document ->> '$.submitted_at' as timestamptz) as submitted_at,
        document ->> '$.submitted_by' as submitted_by,
        document ->> '$.consortium_code' as consortium_code,
        document ->> '$.name_ja' as name_ja,
        document ->> '$.name_en' as name_en,
        cast(document ->> '$.declared_on' as date) as declared_on,
        json_extract_string(document, '$.prefectures[*]') as prefecture_codes,
        coalesce(json_array_length(document, '$.members'), 0) as members_count,
        kafka_topic,
        kafka_epoch,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        ingested_at
    from consortia

)

select * from renamed
