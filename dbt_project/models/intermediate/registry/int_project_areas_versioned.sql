with

registrations as (

    select * from {{ ref('int_project_registrations_versioned') }}

),

project_areas as (

    select * from {{ ref('stg_kafka_lake__project_areas') }}

),

joined as (

    select
        registrations.project_code,
        project_areas.pref_code,
        project_areas.share,
        registrations.registration_number,
        registrations.is_first_version,
        registrations.is_current,
        registrations.valid_from,
        registrations.valid_to,
        registrations.project_registration_id
    from registrations
    inner join project_areas
        on registrations.project_registration_id = project_areas.project_registration_id

),

keyed as (

    select
        project_code || '-' || registration_number || '-' || pref_code as project_area_version_key,
        *
    from joined

)

select * from keyed
