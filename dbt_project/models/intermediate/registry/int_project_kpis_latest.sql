with

projects as (

    select * from {{ ref('int_projects_latest') }}

),

project_kpis as (

    select * from {{ ref('stg_kafka_lake__project_kpis') }}

),

-- KPI definitions come from the registration that won, like the project's other attributes;
-- a KPI listed twice keeps its first definition
joined as (

    select
        projects.project_code,
        projects.consortium_code,
        project_kpis.kpi_code,
        project_kpis.name_ja,
        project_kpis.unit,
        project_kpis.aggregation,
        project_kpis.direction,
        project_kpis.baseline,
        project_kpis.target,
        project_kpis.target_fy,
        project_kpis.contributes_to,
        projects.project_registration_id
    from projects
    inner join project_kpis
        on projects.project_registration_id = project_kpis.project_registration_id
    qualify row_number() over (
        partition by projects.project_code, project_kpis.kpi_code
        order by project_kpis.kpi_number
    ) = 1

),

keyed as (

    select
        project_code || ':' || kpi_code as kpi_key,
        *
    from joined

)

select * from keyed
