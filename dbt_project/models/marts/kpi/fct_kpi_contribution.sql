{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_projects() }}"
    )
}}

{#- Incremental by project: a build redoes only the projects int_projects_changed lists. -#}
-- depends_on: {{ ref('int_projects_changed') }}

with

contributions as (

    select * from {{ ref('int_kpi_values_allocated_to_prefectures') }}
    {{ changed_projects_only() }}

),

kpis as (

    select * from {{ ref('dim_kpi') }}

),

joined as (

    select
        contributions.contribution_key,
        contributions.project_code,
        contributions.consortium_code,
        contributions.kpi_code,
        kpis.name_ja as kpi_name_ja,
        contributions.kpi_key,
        contributions.period,
        contributions.fiscal_year,
        contributions.pref_code,
        contributions.value,
        kpis.baseline,
        kpis.target,
        kpis.target_fy,
        coalesce(kpis.aggregation, contributions.aggregation) as aggregation,
        kpis.direction,
        kpis.unit,
        kpis.contributes_to,
        kpis.national_kpi_name_ja,
        contributions.area_share,
        -- a prefecture's part of a sum-KPI is measured against its share of the target
        case
            when contributions.pref_code is null then kpis.target
            when kpis.aggregation = 'sum' then kpis.target * contributions.area_share
        end as scope_target,
        contributions.is_allocated,
        contributions.allocation_method,
        contributions.is_registered,
        contributions.report_event_id,
        contributions.report_version,
        contributions.kafka_topic,
        contributions.kafka_partition,
        contributions.kafka_offset
    from contributions
    left join kpis on contributions.kpi_key = kpis.kpi_key

),

with_attainment as (

    select
        *,
        case
            when direction = 'decrease' and value > 0 then scope_target / value
            when direction = 'increase' and scope_target > 0 then value / scope_target
        end as attainment_ratio
    from joined

)

select * from with_attainment
