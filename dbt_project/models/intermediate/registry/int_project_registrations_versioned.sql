with

projects as (

    select * from {{ ref('stg_kafka_lake__projects') }}

),

-- SCD2 from the events themselves: a registration is valid from its submission until the
-- next registration of the same project (event time, not build time as a snapshot would be)
versioned as (

    select
        *,
        row_number() over (
            partition by project_code
            order by submitted_at, kafka_timestamp, kafka_offset
        ) as registration_number,
        lead(submitted_at) over (
            partition by project_code
            order by submitted_at, kafka_timestamp, kafka_offset
        ) as valid_to
    from projects

),

final as (

    select
        project_registration_id,
        project_code,
        consortium_code,
        registration_number,
        registration_number = 1 as is_first_version,
        valid_to is null as is_current,
        submitted_at as valid_from,
        valid_to,
        event_id,
        start_fy,
        end_fy,
        kafka_topic,
        kafka_partition,
        kafka_offset
    from versioned

)

select * from final
