with

project_kpis as (

    select * from {{ ref('int_project_kpis_latest') }}

),

national_kpis as (

    select * from {{ ref('national_kpis') }}

),

logic_model as (

    select * from {{ ref('dim_logic_model_node') }}

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
        national_kpis.policy_code as national_kpi_policy_code,
        -- a project's own KPI serving no national one says so with contributes_to = 'LOCAL'
        case
            when project_kpis.contributes_to = 'LOCAL' then 'local'
            when logic_model.node_code is not null then 'linked'
            else 'unknown'
        end as link_status,
        logic_model.tier as linked_node_tier,
        logic_model.name_ja as linked_node_name_ja
    from project_kpis
    left join national_kpis on project_kpis.contributes_to = national_kpis.national_kpi_code
    left join logic_model on project_kpis.contributes_to = logic_model.node_code

)

select * from final
