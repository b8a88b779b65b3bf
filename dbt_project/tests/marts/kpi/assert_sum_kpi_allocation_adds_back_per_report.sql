{{ config(severity='error') }}
-- Allocating sum-KPIs over prefectures must neither create nor lose value: per report and KPI,
-- the contributions add back to the project's value, counted once (a total and its prefecture
-- breakdown are not added; float tolerance for proportional splits).
with

reported as (

    select
        report_event_id,
        kpi_key,
        value as reported_value
    from {{ ref('int_project_kpi_values_by_period') }}
    where aggregation = 'sum'

),

contributed as (

    select
        report_event_id,
        kpi_key,
        sum(value) as contributed_value
    from {{ ref('fct_kpi_contribution') }}
    where aggregation = 'sum'
    group by report_event_id, kpi_key

)

select
    reported.report_event_id,
    reported.kpi_key,
    reported.reported_value,
    contributed.contributed_value
from reported
left join contributed
    on
        reported.report_event_id = contributed.report_event_id
        and reported.kpi_key = contributed.kpi_key
where
    contributed.contributed_value is null
    or abs(reported.reported_value - contributed.contributed_value)
    > 1e-6 * greatest(1, abs(reported.reported_value))
