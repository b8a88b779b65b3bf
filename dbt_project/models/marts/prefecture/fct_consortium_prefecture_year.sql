{#- Consortium × prefecture × fiscal year: active projects, investment by stage and delayed /
    at-risk projects; what mart_prefecture_summary shows, per consortium. -#}
with

investment as (

    select * from {{ ref('fct_investment') }}

),

consortium_prefectures as (

    select * from {{ ref('int_consortium_prefectures_latest') }}

),

projects as (

    select * from {{ ref('int_projects_latest') }}

),

project_areas as (

    select * from {{ ref('int_project_areas_latest') }}

),

project_status as (

    select * from {{ ref('int_project_status_by_fiscal_year') }}

),

prefectures as (

    select * from {{ ref('dim_prefecture') }}

),

fiscal_years as (

    select distinct fiscal_year from project_status

),

-- money may be reported for a prefecture outside the declared list; keep it
consortium_prefecture_pairs as (

    select
        consortium_code,
        pref_code
    from consortium_prefectures
    union
    select distinct
        consortium_code,
        pref_code
    from investment

),

spine as (

    select
        consortium_prefecture_pairs.consortium_code,
        consortium_prefecture_pairs.pref_code,
        fiscal_years.fiscal_year
    from consortium_prefecture_pairs
    cross join fiscal_years

),

investment_totals as (

    select
        consortium_code,
        pref_code,
        fiscal_year,
        sum(amount_jpy) filter (where stage = 'planned') as investment_planned_jpy,
        sum(amount_jpy) filter (where stage = 'committed') as investment_committed_jpy,
        sum(amount_jpy) filter (where stage = 'executed') as investment_executed_jpy
    from investment
    group by consortium_code, pref_code, fiscal_year

),

project_years as (

    select
        projects.consortium_code,
        project_areas.pref_code,
        fiscal_years.fiscal_year,
        projects.project_code,
        project_status.status
    from projects
    inner join project_areas on projects.project_code = project_areas.project_code
    inner join fiscal_years
        on fiscal_years.fiscal_year between project_areas.start_fy and project_areas.end_fy
    left join project_status
        on
            projects.project_code = project_status.project_code
            and fiscal_years.fiscal_year = project_status.fiscal_year

),

project_counts as (

    select
        consortium_code,
        pref_code,
        fiscal_year,
        count(distinct project_code) as active_projects_count,
        count(distinct project_code) filter (where status = 'delayed')
            as projects_delayed_count,
        count(distinct project_code) filter (where status = 'at_risk')
            as projects_at_risk_count
    from project_years
    group by consortium_code, pref_code, fiscal_year

),

final as (

    select
        spine.consortium_code || '-' || spine.pref_code || '-' || spine.fiscal_year
            as consortium_prefecture_year_key,
        spine.consortium_code,
        spine.pref_code,
        spine.fiscal_year,
        coalesce(project_counts.active_projects_count, 0) as active_projects_count,
        cast(coalesce(investment_totals.investment_planned_jpy, 0) as bigint)
            as investment_planned_jpy,
        cast(coalesce(investment_totals.investment_committed_jpy, 0) as bigint)
            as investment_committed_jpy,
        cast(coalesce(investment_totals.investment_executed_jpy, 0) as bigint)
            as investment_executed_jpy,
        coalesce(project_counts.projects_delayed_count, 0) as projects_delayed_count,
        coalesce(project_counts.projects_at_risk_count, 0) as projects_at_risk_count
    from spine
    -- only the 47 prefectures (as the dashboards show them)
    inner join prefectures on spine.pref_code = prefectures.pref_code
    left join investment_totals
        on
            spine.consortium_code = investment_totals.consortium_code
            and spine.pref_code = investment_totals.pref_code
            and spine.fiscal_year = investment_totals.fiscal_year
    left join project_counts
        on
            spine.consortium_code = project_counts.consortium_code
            and spine.pref_code = project_counts.pref_code
            and spine.fiscal_year = project_counts.fiscal_year

)

select * from final
