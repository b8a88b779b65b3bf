{{ config(severity='error') }}
-- Per report event, fct_investment adds back to the yen to the report's own funding lines,
-- read straight from staging (allocation by largest remainder must be exact).
with

latest_reports as (

    select * from {{ ref('int_reports_deduplicated_to_latest') }}

),

funding_lines as (

    select * from {{ ref('stg_kafka_lake__report_funding_lines') }}

),

reported as (

    select
        latest_reports.event_id as report_event_id,
        sum(funding_lines.amount_jpy) as reported_jpy
    from latest_reports
    inner join funding_lines on latest_reports.report_id = funding_lines.report_id
    group by latest_reports.event_id

),

invested as (

    select
        report_event_id,
        sum(amount_jpy) as invested_jpy
    from {{ ref('fct_investment') }}
    group by report_event_id

)

select
    coalesce(reported.report_event_id, invested.report_event_id) as report_event_id,
    reported.reported_jpy,
    invested.invested_jpy
from reported
full outer join invested on reported.report_event_id = invested.report_event_id
where reported.reported_jpy is distinct from invested.invested_jpy
