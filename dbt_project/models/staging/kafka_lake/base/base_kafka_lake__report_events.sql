{{
    config(
        materialized='incremental',
        on_schema_change='fail'
    )
}}

{#- Incremental: the lake is append-only per (epoch, partition) in offset order, so a build
    only parses the JSON of messages past the highest offset already loaded. -#}

with

source as (

    select * from {{ source('kafka_lake', 'reports_v1') }}

),

landed as (

    -- dead letters are not contract documents; fct_dead_letter_events shows them
    select * from source
    where _status = 'landed'

),

new_messages as (

    select * from landed
    {% if is_incremental() %}
        -- only what lies past the highest offset already loaded for its epoch and partition
        where landed._offset > coalesce((
            select max(loaded.kafka_offset) from {{ this }} as loaded
            where
                loaded.kafka_epoch = landed._epoch
                and loaded.kafka_partition = landed._partition
        ), -1)
    {% endif %}

),

-- a replayed lander may write the same Kafka message twice; keep one copy per coordinate
one_copy_per_message as (

    select * from new_messages
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
