{#- One value per project KPI and reporting period, at project level, counted once: a report may
    give a KPI's value per prefecture, for the whole project (no pref_code), or both. When it
    gives both, the value without pref_code is the project's total and the prefecture values are
    its breakdown, so they are not added to it; a sum-KPI's total below the sum of its own parts
    is read as the parts, and flagged. With prefecture values only, they combine by the KPI's aggregation (a sum or a latest
    level adds up over prefectures, max takes the largest, mean averages). -#}
{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_projects() }}"
    )
}}

{#- Incremental by project: a build redoes only the projects int_projects_changed lists. -#}
-- depends_on: {{ ref('int_projects_changed') }}

with

all_kpi_values as (

    select * from {{ ref('int_kpi_values_latest') }}
    {{ changed_projects_only() }}

),

kpi_values as (

    select * from all_kpi_values
    where is_registered

),

periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

by_report as (

    select
        project_code,
        consortium_code,
        period,
        fiscal_year,
        kpi_code,
        kpi_key,
        any_value(aggregation) as aggregation,
        sum(value) filter (where pref_code is null) as stated_total,
        sum(value) filter (where pref_code is not null) as prefecture_sum,
        max(value) filter (where pref_code is not null) as prefecture_max,
        avg(value) filter (where pref_code is not null) as prefecture_mean,
        count(*) filter (where pref_code is not null) as prefecture_values_count,
        any_value(report_event_id) as report_event_id,
        any_value(report_version) as report_version,
        any_value(report_submitted_at) as report_submitted_at,
        any_value(kafka_topic) as kafka_topic,
        any_value(kafka_partition) as kafka_partition,
        any_value(kafka_offset) as kafka_offset
    from kpi_values
    group by project_code, consortium_code, period, fiscal_year, kpi_code, kpi_key

),

final as (

    select
        by_report.kpi_key || ':' || by_report.period as kpi_period_key,
        by_report.project_code,
        by_report.consortium_code,
        by_report.kpi_code,
        by_report.kpi_key,
        by_report.period,
        by_report.fiscal_year,
        periods.end_date as period_end_date,
        by_report.aggregation,
        case
            -- a sum-KPI's total below its own parts is read as the parts (flagged below), as
            -- the allocation to prefectures does
            when by_report.aggregation = 'sum' and by_report.stated_total is not null
                then greatest(by_report.stated_total, coalesce(by_report.prefecture_sum, 0))
            when by_report.stated_total is not null then by_report.stated_total
            when by_report.aggregation = 'max' then by_report.prefecture_max
            when by_report.aggregation = 'mean' then by_report.prefecture_mean
            else by_report.prefecture_sum
        end as value,
        by_report.stated_total is not null as has_stated_total,
        by_report.prefecture_values_count,
        coalesce(
            by_report.stated_total is not null
            and by_report.aggregation in ('sum', 'latest')
            and by_report.stated_total < by_report.prefecture_sum,
            false
        ) as is_total_below_parts,
        by_report.report_event_id,
        by_report.report_version,
        by_report.report_submitted_at,
        by_report.kafka_topic,
        by_report.kafka_partition,
        by_report.kafka_offset
    from by_report
    inner join periods on by_report.period = periods.period

)

select * from final
