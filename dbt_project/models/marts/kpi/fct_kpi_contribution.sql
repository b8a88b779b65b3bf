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

)

select * from joined
