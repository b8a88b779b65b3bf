{#- fct_investment with the Japanese labels and project attributes the 投資 dashboard filters on. -#}
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

labels as (

    select * from {{ ref('rpt_code_labels') }}

),

investment as (

    select * from {{ ref('fct_investment') }}
    {{ changed_projects_only() }}

),

projects as (

    select * from {{ ref('dim_project') }}

),

prefectures as (

    select * from {{ ref('dim_prefecture') }}

),

labelled as (

    select
        investment.investment_key,
        investment.project_code,
        projects.title_ja as project_title_ja,
        investment.consortium_code,
        projects.consortium_name_ja,
        projects.theme,
        projects.theme_name_ja,
        projects.goal_code,
        projects.goal_name_ja,
        investment.period,
        investment.fiscal_year,
        investment.source_type,
        source_type_label.name_ja as source_type_name_ja,
        investment.stage,
        stage_label.name_ja as stage_name_ja,
        investment.pref_code,
        prefectures.iso_code,
        prefectures.name_ja as pref_name_ja,
        prefectures.region_block_code,
        prefectures.region_block_name_ja,
        investment.amount_jpy
    from investment
    left join projects on investment.project_code = projects.project_code
    left join prefectures on investment.pref_code = prefectures.pref_code
    left join labels as source_type_label
        on
            source_type_label.code_type = 'source_type'
            and investment.source_type = source_type_label.code
    left join labels as stage_label
        on
            stage_label.code_type = 'stage'
            and investment.stage = stage_label.code

)

select * from labelled
