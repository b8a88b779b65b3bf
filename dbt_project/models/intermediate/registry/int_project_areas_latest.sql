with

projects as (

    select * from {{ ref('int_projects_latest') }}

),

project_areas as (

    select * from {{ ref('stg_kafka_lake__project_areas') }}

),

-- areas come only from the registration that won, so a re-registration replaces them all
joined as (

    select
        projects.project_code,
        project_areas.pref_code,
        project_areas.share,
        projects.start_fy,
        projects.end_fy,
        projects.project_registration_id
    from projects
    inner join project_areas
        on projects.project_registration_id = project_areas.project_registration_id

),

keyed as (

    select
        project_code || '-' || pref_code as project_area_key,
        *
    from joined

)

select * from keyed
