with

report_events as (

    select * from {{ ref('base_kafka_lake__report_events') }}

),

reports as (

    select
        kafka_message_id,
        document ->> '$.project_code' as project_code,
        document ->> '$.period' as period,
        json_extract(document, '$.funding[*]') as funding
    from report_events

),

unnested as (

    select
        kafka_message_id,
        project_code,
        period,
        unnest(funding) as funding_line,
        generate_subscripts(funding, 1) as line_number
    from reports

),

renamed as (

    select
        md5(concat_ws('|', kafka_message_id, line_number)) as funding_line_id,
        kafka_message_id as report_id,
        project_code,
        period,
        line_number,
        funding_line ->> '$.source_type' as source_type,
        funding_line ->> '$.stage' as stage,
        cast(funding_line ->> '$.amount_jpy' as bigint) as amount_jpy,
        -- null means "allocate over the project's areas by share"
        funding_line ->> '$.pref_code' as pref_code
    from unnested

)

select * from renamed
