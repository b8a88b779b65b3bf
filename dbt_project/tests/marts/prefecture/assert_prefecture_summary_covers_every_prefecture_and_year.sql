-- Each reported fiscal year must have exactly 47 prefecture rows, and the summary's
-- investment must equal fct_investment's per year and stage.
with

summary as (

    select * from {{ ref('mart_prefecture_summary') }}

),

investment as (

    select * from {{ ref('fct_investment') }}

),

reports as (

    select * from {{ ref('int_reports_deduplicated_to_latest') }}

),

rows_per_year as (

    select
        reports.fiscal_year,
        count(distinct summary.pref_code) as prefectures_count
    from (select distinct fiscal_year from reports) as reports
    left join summary on reports.fiscal_year = summary.fiscal_year
    group by reports.fiscal_year

),

summary_totals as (

    select
        fiscal_year,
        sum(investment_planned_jpy) as planned_jpy,
        sum(investment_committed_jpy) as committed_jpy,
        sum(investment_executed_jpy) as executed_jpy
    from summary
    group by fiscal_year

),

investment_totals as (

    select
        fiscal_year,
        coalesce(sum(amount_jpy) filter (where stage = 'planned'), 0) as planned_jpy,
        coalesce(sum(amount_jpy) filter (where stage = 'committed'), 0) as committed_jpy,
        coalesce(sum(amount_jpy) filter (where stage = 'executed'), 0) as executed_jpy
    from investment
    where pref_code is not null
    group by fiscal_year

),

failures as (

    select
        fiscal_year,
        'expected 47 prefectures, got ' || prefectures_count as failure
    from rows_per_year
    where prefectures_count != 47

    union all

    select
        investment_totals.fiscal_year,
        'investment totals differ from fct_investment' as failure
    from investment_totals
    left join summary_totals on investment_totals.fiscal_year = summary_totals.fiscal_year
    where
        summary_totals.planned_jpy is distinct from investment_totals.planned_jpy
        or summary_totals.committed_jpy is distinct from investment_totals.committed_jpy
        or summary_totals.executed_jpy is distinct from investment_totals.executed_jpy

)

select * from failures
