with

registry_events as (

    select * from {{ ref('base_kafka_lake__registry_events') }}

),

projects as (

    select
        kafka_message_id,
        document ->> '$.project_code' as project_code,
        json_extract(document, '$.kpis[*]') as kpis
    from registry_events
    where document ->> '$.entity' = 'project'

),

unnested as (

    select
        kafka_message_id,
        project_code,
        unnest(kpis) as kpi,
        generate_subscripts(kpis, 1) as kpi_number
    from projects

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
