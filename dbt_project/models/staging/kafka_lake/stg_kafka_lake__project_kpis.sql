with

unnested as (

    {{ unnest_json_array(
        ref('base_kafka_lake__registry_events'),
        array_path='$.kpis[*]',
        element='kpi',
        number='kpi_number',
        carry=['project_code'],
        entity='project'
    ) }}

),

renamed as (

    select
        md5(concat_ws('|', kafka_message_id, kpi_number)) as project_kpi_id,
        kafka_message_id as project_registration_id,
        project_code,
        kpi_number,
        kpi ->> '$.kpi_code' as kpi_code,
        kpi ->> '$.name_ja' as name_ja,
        kpi ->> '$.unit' as unit,
        kpi ->> '$.aggregation' as aggregation,
        kpi ->> '$.direction' as direction,
        cast(kpi ->> '$.baseline' as double) as baseline,
        cast(kpi ->> '$.target' as double) as target,
        cast(kpi ->> '$.target_fy' as integer) as target_fy,
        kpi ->> '$.contributes_to' as contributes_to
    from unnested

)

select * from renamed
