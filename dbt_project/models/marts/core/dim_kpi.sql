with

project_kpis as (

    select * from {{ ref('int_project_kpis_latest') }}

),

national_kpis as (

    select * from {{ ref('national_kpis') }}

),

final as (

    select
        project_kpis.kpi_key,
        project_kpis.project_code,
        project_kpis.consortium_code,
        project_kpis.kpi_code,
        project_kpis.name_ja,
        project_kpis.unit,
        project_kpis.aggregation,
        project_kpis.direction,
        project_kpis.baseline,
        project_kpis.target,
        project_kpis.target_fy,
        project_kpis.contributes_to,
        national_kpis.name_ja as national_kpi_name_ja,
        national_kpis.policy_code as national_kpi_policy_code
    from project_kpis
    left join national_kpis on project_kpis.contributes_to = national_kpis.national_kpi_code

)

select * from final
