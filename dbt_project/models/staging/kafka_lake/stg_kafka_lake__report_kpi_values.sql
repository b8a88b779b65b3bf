with

report_events as (

    select * from {{ ref('base_kafka_lake__report_events') }}

),

reports as (

    select
        kafka_message_id,
        document ->> '$.project_code' as project_code,
        document ->> '$.period' as period,
        json_extract(document, '$.kpis[*]') as kpi_values
    from report_events

),

unnested as (

    select
        kafka_message_id,
        project_code,
        period,
        unnest(kpi_values) as kpi_value,
        generate_subscripts(kpi_values, 1) as value_number
    from reports

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
