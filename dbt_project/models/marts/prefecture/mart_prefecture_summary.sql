with

prefectures as (

    select * from {{ ref('dim_prefecture') }}

),

reports as (

    select * from {{ ref('int_reports_deduplicated_to_latest') }}

),

consortium_prefectures as (

    select * from {{ ref('int_consortium_prefectures_latest') }}

),

project_areas as (

    select * from {{ ref('int_project_areas_latest') }}

),

investment as (

    select * from {{ ref('fct_investment') }}

),

project_status as (

    select * from {{ ref('int_project_status_by_fiscal_year') }}

),

kpi_progress as (

    select * from {{ ref('fct_project_kpi_progress') }}

),

report_submissions as (

    select * from {{ ref('fct_report_submission') }}

),

fiscal_years as (

    select distinct fiscal_year from reports

),

-- every prefecture for every reported year, so maps and tables show zeros too
spine as (

    select
        prefectures.pref_code,
        prefectures.iso_code,
        prefectures.name_ja,
        prefectures.name_en,
        prefectures.region_block_code,
        prefectures.region_block_name_ja,
        prefectures.is_tokyo_area,
        fiscal_years.fiscal_year
    from prefectures
    cross join fiscal_years

),

consortia_counts as (

    select
        spine.pref_code,
        spine.fiscal_year,
        count(distinct consortium_prefectures.consortium_code) as consortia_count
    from spine
    inner join consortium_prefectures
        on
            spine.pref_code = consortium_prefectures.pref_code
            -- declared by the end of the fiscal year (31 March of fiscal_year + 1)
            and consortium_prefectures.declared_on <= make_date(spine.fiscal_year + 1, 3, 31)
    group by spine.pref_code, spine.fiscal_year

),

active_project_counts as (

    select
        spine.pref_code,
        spine.fiscal_year,
        count(distinct project_areas.project_code) as active_projects_count
    from spine
    inner join project_areas
        on
            spine.pref_code = project_areas.pref_code
            and spine.fiscal_year between project_areas.start_fy and project_areas.end_fy
    group by spine.pref_code, spine.fiscal_year

),

investment_totals as (

    select
        pref_code,
        fiscal_year,
        sum(amount_jpy) filter (where stage = 'planned') as investment_planned_jpy,
        sum(amount_jpy) filter (where stage = 'committed') as investment_committed_jpy,
        sum(amount_jpy) filter (where stage = 'executed') as investment_executed_jpy
    from investment
    group by pref_code, fiscal_year

),

project_status_by_prefecture as (

    select
        project_areas.pref_code,
        project_status.fiscal_year,
        project_status.project_code,
        project_status.status
    from project_status
    inner join project_areas on project_status.project_code = project_areas.project_code

),

status_counts as (

    select
        pref_code,
        fiscal_year,
        count(distinct project_code) filter (where status = 'delayed') as projects_delayed_count,
        count(distinct project_code) filter (where status = 'at_risk') as projects_at_risk_count
    from project_status_by_prefecture
    group by pref_code, fiscal_year

),

-- the project KPIs of projects working in a prefecture, by their status at the end of each
-- year: counts, never an average of ratios across KPIs and units (a KPI is counted in each of
-- its project's prefectures; the prefecture's share of a project-level outcome is not known)
kpi_status_counts as (

    select
        project_areas.pref_code,
        kpi_progress.fiscal_year,
        count(*) as kpis_count,
        count(*) filter (where kpi_progress.status in ('achieved', 'on_track'))
            as kpis_on_track_count,
        count(*) filter (where kpi_progress.status = 'behind') as kpis_behind_count
    from kpi_progress
    inner join project_areas on kpi_progress.project_code = project_areas.project_code
    group by project_areas.pref_code, kpi_progress.fiscal_year

),

submission_counts as (

    select
        project_areas.pref_code,
        report_submissions.fiscal_year,
        count(*) filter (where report_submissions.submission_status = 'late') as reports_late_count,
        count(*) filter (where report_submissions.submission_status = 'missing')
            as reports_missing_count
    from report_submissions
    inner join project_areas on report_submissions.project_code = project_areas.project_code
    group by project_areas.pref_code, report_submissions.fiscal_year

),

final as (

    select
        spine.pref_code || '-' || spine.fiscal_year as summary_key,
        spine.pref_code,
        spine.iso_code,
        spine.name_ja,
        spine.name_en,
        spine.region_block_code,
        spine.region_block_name_ja,
        spine.is_tokyo_area,
        spine.fiscal_year,
        coalesce(consortia_counts.consortia_count, 0) as consortia_count,
        coalesce(active_project_counts.active_projects_count, 0) as active_projects_count,
        cast(coalesce(investment_totals.investment_planned_jpy, 0) as bigint)
            as investment_planned_jpy,
        cast(coalesce(investment_totals.investment_committed_jpy, 0) as bigint)
            as investment_committed_jpy,
        cast(coalesce(investment_totals.investment_executed_jpy, 0) as bigint)
            as investment_executed_jpy,
        coalesce(status_counts.projects_delayed_count, 0) as projects_delayed_count,
        coalesce(status_counts.projects_at_risk_count, 0) as projects_at_risk_count,
        coalesce(kpi_status_counts.kpis_count, 0) as kpis_count,
        coalesce(kpi_status_counts.kpis_on_track_count, 0) as kpis_on_track_count,
        coalesce(kpi_status_counts.kpis_behind_count, 0) as kpis_behind_count,
        coalesce(submission_counts.reports_late_count, 0) as reports_late_count,
        coalesce(submission_counts.reports_missing_count, 0) as reports_missing_count
    from spine
    left join consortia_counts
        on
            spine.pref_code = consortia_counts.pref_code
            and spine.fiscal_year = consortia_counts.fiscal_year
    left join active_project_counts
        on
            spine.pref_code = active_project_counts.pref_code
            and spine.fiscal_year = active_project_counts.fiscal_year
    left join investment_totals
        on
            spine.pref_code = investment_totals.pref_code
            and spine.fiscal_year = investment_totals.fiscal_year
    left join status_counts
        on
            spine.pref_code = status_counts.pref_code
            and spine.fiscal_year = status_counts.fiscal_year
    left join kpi_status_counts
        on
            spine.pref_code = kpi_status_counts.pref_code
            and spine.fiscal_year = kpi_status_counts.fiscal_year
    left join submission_counts
        on
            spine.pref_code = submission_counts.pref_code
            and spine.fiscal_year = submission_counts.fiscal_year

)

select * from final
