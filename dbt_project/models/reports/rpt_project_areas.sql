{#- Each project's registration with its prefectures and shares, for the 事業カルテ's header. -#}
with

projects as (

    select * from {{ ref('dim_project') }}

),

areas as (

    select * from {{ ref('int_project_areas_latest') }}

),

prefectures as (

    select * from {{ ref('dim_prefecture') }}

),

policies as (

    select * from {{ ref('dim_policy') }}

),

final as (

    select
        projects.project_code || ':' || areas.pref_code as project_area_key,
        projects.project_code,
        projects.title_ja as project_title_ja,
        projects.consortium_code,
        projects.consortium_name_ja,
        projects.theme_name_ja,
        projects.policy_code,
        policies.name_ja as policy_name_ja,
        projects.goal_code,
        projects.goal_name_ja,
        projects.start_fy,
        projects.end_fy,
        projects.planned_budget_jpy,
        areas.pref_code,
        prefectures.name_ja as pref_name_ja,
        'JP-' || areas.pref_code as iso_3166_2,
        areas.share as area_share,
        projects.submitted_at as registered_at,
        projects.kafka_topic,
        projects.kafka_partition,
        projects.kafka_offset
    from projects
    inner join areas on projects.project_code = areas.project_code
    left join prefectures on areas.pref_code = prefectures.pref_code
    left join policies on projects.policy_code = policies.policy_code

)

select * from final
