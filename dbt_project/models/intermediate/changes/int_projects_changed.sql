{#- The projects an incremental build must redo: those named by a message loaded into a base model
    by a build whose changes were not consumed yet (int_project_changes_consumed, read by name, not
    ref, which would close a cycle). A consortium registration changes every project of the
    consortium now (its name is on dim_project). Rebuilt whole on every run, so one run's incremental
    models all delete and re-insert the same set. -#}
{%- set consumed = adapter.get_relation(
    database=this.database, schema=this.schema, identifier='int_project_changes_consumed'
) -%}

with

report_events as (

    select * from {{ ref('base_kafka_lake__report_events') }}

),

registry_events as (

    select * from {{ ref('base_kafka_lake__registry_events') }}

),

projects as (

    select * from {{ ref('int_projects_latest') }}

),

consumed as (

    {% if consumed is not none -%}
        select loaded_by from {{ consumed }}
    {%- else -%}
        select cast(null as varchar) as loaded_by
        where false
    {%- endif %}

),

new_reports as (

    select document ->> '$.project_code' as project_code
    from report_events
    where loaded_by not in (select consumed.loaded_by from consumed)

),

new_registrations as (

    select
        document ->> '$.entity' as entity,
        document ->> '$.project_code' as project_code,
        document ->> '$.consortium_code' as consortium_code
    from registry_events
    where loaded_by not in (select consumed.loaded_by from consumed)

),

projects_of_new_consortia as (

    select projects.project_code
    from projects
    inner join new_registrations
        on
            new_registrations.entity = 'consortium'
            and projects.consortium_code = new_registrations.consortium_code

),

changed as (

    select project_code from new_reports
    union
    select project_code from new_registrations
    where entity = 'project'
    union
    select project_code from projects_of_new_consortia

)

select project_code from changed
where project_code is not null
