with

unnested as (

    {{ unnest_json_array(
        ref('base_kafka_lake__report_events'),
        array_path='$.funding[*]',
        element='funding_line',
        number='line_number',
        carry=['project_code', 'period']
    ) }}

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
