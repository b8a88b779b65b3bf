{{ config(severity='error') }}
-- A level (latest, max, mean or a _CUM unit) is one of the values reported, or their mean; only
-- a sum-KPI's level is the baseline plus its flows.
with

progress as (

    select * from {{ ref('fct_project_kpi_progress') }}
    where actual_value is not null

),

period_values as (

    select * from {{ ref('int_project_kpi_values_by_period') }}

),

reported as (

    select
        progress.kpi_progress_key,
        min(period_values.value) as lowest,
        max(period_values.value) as highest
    from progress
    inner join period_values
        on
            progress.kpi_key = period_values.kpi_key
            and progress.fiscal_year >= period_values.fiscal_year
    group by progress.kpi_progress_key

)

select
    progress.kpi_progress_key,
    progress.level_rule,
    progress.actual_value,
    reported.lowest,
    reported.highest
from progress
inner join reported on progress.kpi_progress_key = reported.kpi_progress_key
where
    progress.level_rule != 'sum'
    and (
        progress.actual_value < reported.lowest - 1e-9
        or progress.actual_value > reported.highest + 1e-9
    )
