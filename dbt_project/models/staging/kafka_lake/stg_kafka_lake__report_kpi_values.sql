with

unnested as (

    {{ unnest_json_array(
        ref('base_kafka_lake__report_events'),
        array_path='$.kpis[*]',
        element='kpi_value',
        number='value_number',
        carry=['project_code', 'period']
    ) }}

),

renamed as (

    select
        md5(concat_ws('|', kafka_message_id, value_number)) as report_kpi_value_id,
        kafka_message_id as report_id,
        project_code,
        period,
        value_number,
        kpi_value ->> '$.kpi_code' as kpi_code,
        cast(kpi_value ->> '$.value' as double) as value,
        -- null means "the whole project"
        kpi_value ->> '$.pref_code' as pref_code
    from unnested

)

select * from renamed
