{#- fct_investment with the Japanese labels and project attributes the 投資 dashboard filters on. -#}
with

labels as (

    select * from {{ ref('rpt_code_labels') }}

),

investment as (

    select * from {{ ref('fct_investment') }}

),

projects as (

    select * from {{ ref('int_projects_latest') }}

),

project_goals as (

    select
        project_code,
        goal_code
    from {{ ref('dim_project') }}

),

goals as (

    select
        policy_code,
        name_ja
    from {{ ref('dim_policy') }}
    where level = 'goal'

),

consortia as (

    select * from {{ ref('int_consortia_latest') }}

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
        consortia.name_ja as consortium_name_ja,
        projects.theme,
        theme_label.name_ja as theme_name_ja,
        project_goals.goal_code,
        goals.name_ja as goal_name_ja,
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
    left join project_goals on investment.project_code = project_goals.project_code
    left join goals on project_goals.goal_code = goals.policy_code
    left join consortia on investment.consortium_code = consortia.consortium_code
    left join prefectures on investment.pref_code = prefectures.pref_code
    left join labels as theme_label
        on
            theme_label.code_type = 'theme'
            and projects.theme = theme_label.code
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
