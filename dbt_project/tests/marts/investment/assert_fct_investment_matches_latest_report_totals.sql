-- sum(fct_investment.amount_jpy) per stage equals the sum of all funding lines of the
-- latest report versions, computed here straight from staging.
with

latest_reports as (

    select * from {{ ref('int_reports_deduplicated_to_latest') }}

),

funding_lines as (

    select * from {{ ref('stg_kafka_lake__report_funding_lines') }}

),

investment as (

    select * from {{ ref('fct_investment') }}

),

reported as (

    select
        funding_lines.stage,
        sum(funding_lines.amount_jpy) as total_jpy
    from funding_lines
    inner join latest_reports on funding_lines.report_id = latest_reports.report_id
    group by funding_lines.stage

),

invested as (

    select
        stage,
        sum(amount_jpy) as total_jpy
    from investment
    group by stage

),

mismatches as (

    select
        coalesce(reported.stage, invested.stage) as stage,
        reported.total_jpy as reported_total_jpy,
        invested.total_jpy as invested_total_jpy
    from reported
    full outer join invested on reported.stage = invested.stage
    where reported.total_jpy is distinct from invested.total_jpy

)

select * from mismatches
