with

projects as (

    select * from {{ ref('int_projects_latest') }}

),

project_areas as (

    select * from {{ ref('int_project_areas_latest') }}

),

themes as (

    select * from {{ ref('themes') }}

),

policies as (

    select * from {{ ref('dim_policy') }}

),

goals as (

    select
        policy_code,
        name_ja
    from policies
    where level in ('goal', 'bucket')  -- 国の役割 (GR) holds 広域リージョン連携

),

consortia as (

    select * from {{ ref('int_consortia_latest') }}

),

area_lists as (

    select
        project_code,
        count(*) as area_count,
        string_agg(pref_code, ',' order by pref_code) as area_pref_codes
    from project_areas
    group by project_code

),

final as (

    select
        projects.project_code,
        projects.consortium_code,
        consortia.name_ja as consortium_name_ja,
        projects.title_ja,
        projects.title_en,
        projects.theme,
        themes.name_ja as theme_name_ja,
        projects.policy_code,
        policies.name_ja as policy_name_ja,
        policies.pillar_code,
        -- a pillar's measures reach their goal through the crosswalk (P5 → GR 国の役割)
        policies.goal_code,
        goals.name_ja as goal_name_ja,
        projects.start_fy,
        projects.end_fy,
        projects.planned_budget_jpy,
        coalesce(area_lists.area_count, 0) as area_count,
        area_lists.area_pref_codes,
        projects.kpis_count,
        projects.submitted_at,
        projects.event_id,
        projects.kafka_topic,
        projects.kafka_partition,
        projects.kafka_offset
    from projects
    left join themes on projects.theme = themes.theme
    left join policies on projects.policy_code = policies.policy_code
    left join goals on policies.goal_code = goals.policy_code
    left join consortia on projects.consortium_code = consortia.consortium_code
    left join area_lists on projects.project_code = area_lists.project_code

)

select * from final
