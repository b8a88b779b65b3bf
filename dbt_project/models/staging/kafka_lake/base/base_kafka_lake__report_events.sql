with

source as (

    select * from {{ source('kafka_lake', 'reports_v1') }}

),

landed as (

    -- dead letters are not contract documents; they stay in the lake for the lander's report
    select * from source
    where _status = 'landed'

),

-- a replayed lander may write the same Kafka message twice; keep one copy per coordinate
one_copy_per_message as (

    select * from landed
    qualify row_number() over (
        partition by _topic, _epoch, _partition, _offset
        order by _ingested_at
    ) = 1

),

renamed as (

    select
        md5(concat_ws('|', _topic, _epoch, _partition, _offset)) as kafka_message_id,
        _topic as kafka_topic,
        _epoch as kafka_epoch,
        _partition as kafka_partition,
        _offset as kafka_offset,
        _kafka_ts as kafka_timestamp,
        _key as kafka_key,
        _ingested_at as ingested_at,
        cast(decode(_value) as json) as document
    from one_copy_per_message

)

select * from renamed
