with

registry_events as (

    select * from {{ ref('base_kafka_lake__registry_events') }}

),

projects as (

    select
        kafka_message_id,
        document ->> '$.project_code' as project_code,
        json_extract(document, '$.areas[*]') as areas
    from registry_events
    where document ->> '$.entity' = 'project'

),

unnested as (

    select
        kafka_message_id,
        project_code,
        unnest(areas) as area,
        generate_subscripts(areas, 1) as area_number
    from projects

),

renamed as (

    select
        md5(concat_ws('|', kafka_message_id, area_number)) as project_area_id,
        kafka_message_id as project_registration_id,
        project_code,
        area_number,
        area ->> '$.pref_code' as pref_code,
        cast(area ->> '$.share' as double) as share
    from unnested

)

select * from renamed
