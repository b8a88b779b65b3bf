with

unnested as (

    {{ unnest_json_array(
        ref('base_kafka_lake__registry_events'),
        array_path='$.areas[*]',
        element='area',
        number='area_number',
        carry=['project_code'],
        entity='project'
    ) }}

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
