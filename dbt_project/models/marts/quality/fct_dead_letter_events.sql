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
        value_bytes,
        value_preview
    from dead_letters

)

select * from final
