{#- Each prefecture's part of the sum-KPIs (the only ones that can be split over prefectures),
    per KPI and fiscal year, in the KPI's own unit: the KPI進捗 dashboard never adds up values of
    different KPIs or units, nor shows levels (latest, max, mean) by prefecture. -#}
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

all_contributions as (

    select * from {{ ref('fct_kpi_contribution') }}
    {{ changed_projects_only() }}

),

contributions as (

    select * from all_contributions
    where aggregation = 'sum' and pref_code is not null and is_registered

),

prefectures as (

    select * from {{ ref('dim_prefecture') }}

),

projects as (

    select * from {{ ref('dim_project') }}

),

labels as (

    select * from {{ ref('rpt_code_labels') }}

),

summed as (

    select
        consortium_code,
        project_code,
        kpi_code,
        any_value(kpi_name_ja) as kpi_name_ja,
        any_value(unit) as unit,
        fiscal_year,
        pref_code,
        sum(value) as value,
        bool_or(is_allocated) as has_allocated_part
    from contributions
    group by consortium_code, project_code, kpi_code, fiscal_year, pref_code

),

final as (

    select
        concat_ws(
            ':', summed.project_code, summed.kpi_code, 'FY' || summed.fiscal_year, summed.pref_code
        ) as contribution_key,
        summed.consortium_code,
        summed.project_code,
        projects.title_ja as project_title_ja,
        summed.kpi_code,
        summed.kpi_name_ja,
        summed.kpi_name_ja || '（' || coalesce(unit_label.name_ja, summed.unit) || '）'
            as kpi_label_ja,
        summed.unit,
        coalesce(unit_label.name_ja, summed.unit) as unit_name_ja,
        summed.fiscal_year,
        summed.pref_code,
        prefectures.name_ja as pref_name_ja,
        'JP-' || summed.pref_code as iso_3166_2,
        summed.value,
        summed.has_allocated_part
    from summed
    left join prefectures on summed.pref_code = prefectures.pref_code
    left join projects on summed.project_code = projects.project_code
    left join labels as unit_label on unit_label.code_label_key = 'unit:' || summed.unit

)

select * from final
