with

dead_letters as (

    select * from {{ ref('stg_kafka_lake__dead_letter_events') }}

),

final as (

    select
        kafka_message_id as dead_letter_key,
        kafka_topic,
        kafka_epoch,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        ingested_at,
        error_class,
        error_message,
        kafka_key,
        -- the consortium the message was keyed under, for row-level security: registrations are
        -- keyed by consortium code (KR-TOH0-02), reports by project code (KR-TOH0-02-P03), so the
        -- key starts with the contract's consortium code; null for any other key
        nullif(
            regexp_extract(kafka_key, '^(KR-[A-Z0-9]{2,8}-[0-9]{2})(-|$)', 1), ''
        ) as consortium_code,
        value_bytes,
        value_preview
    from dead_letters

)

select * from final
