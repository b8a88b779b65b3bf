{#- Consortium-grained prefecture figures with names: what mart_prefecture_summary shows, per
    consortium, so a secretariat can be limited to its own rows by row-level security. -#}
with

activity as (

    select * from {{ ref('fct_consortium_prefecture_year') }}

),

consortia as (

    select * from {{ ref('dim_consortium') }}

),

prefectures as (

    select * from {{ ref('dim_prefecture') }}

),

labelled as (

    select
        activity.consortium_prefecture_year_key,
        activity.consortium_code,
        consortia.name_ja as consortium_name_ja,
        activity.pref_code,
        prefectures.iso_code,
        prefectures.name_ja as pref_name_ja,
        prefectures.region_block_code,
        prefectures.region_block_name_ja,
        activity.fiscal_year,
        activity.active_projects_count,
        activity.investment_planned_jpy,
        activity.investment_committed_jpy,
        activity.investment_executed_jpy,
        activity.projects_delayed_count,
        activity.projects_at_risk_count
    from activity
    inner join prefectures on activity.pref_code = prefectures.pref_code
    left join consortia on activity.consortium_code = consortia.consortium_code

)

select * from labelled
