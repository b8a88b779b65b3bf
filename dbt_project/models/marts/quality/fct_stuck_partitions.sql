with

stuck as (

    {{ read_stuck_partitions() }}

),

final as (

    select
        md5(concat_ws('|', topic, epoch, partition)) as stuck_partition_key,
        topic as kafka_topic,
        epoch as kafka_epoch,
        partition as kafka_partition,
        "offset" as stuck_offset,
        error_class,
        error_message,
        first_seen as first_seen_at,
        last_seen as last_seen_at
    from stuck

)

select * from final
