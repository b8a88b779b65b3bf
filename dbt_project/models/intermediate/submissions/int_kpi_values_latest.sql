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

reports as (

    select * from {{ ref('int_reports_deduplicated_to_latest') }}
    {{ changed_projects_only() }}

),

kpi_values as (

    select * from {{ ref('stg_kafka_lake__report_kpi_values') }}
    {{ changed_projects_only() }}

),

project_kpis as (

    select * from {{ ref('int_project_kpis_latest') }}
    {{ changed_projects_only() }}

),

-- a value whose kpi_code is not registered on the project keeps a null definition, so the
-- warn test on is_registered can list it
joined as (

    select
        reports.project_code,
        reports.consortium_code,
        reports.period,
        reports.fiscal_year,
        kpi_values.kpi_code,
        reports.project_code || ':' || kpi_values.kpi_code as kpi_key,
        kpi_values.pref_code,
        kpi_values.value_number,
        kpi_values.value,
        project_kpis.kpi_code is not null as is_registered,
        project_kpis.aggregation,
        reports.submitted_at as report_submitted_at,
        reports.event_id as report_event_id,
        reports.version as report_version,
        reports.kafka_topic,
        reports.kafka_partition,
        reports.kafka_offset
    from reports
    inner join kpi_values on reports.report_id = kpi_values.report_id
    left join project_kpis
        on
            reports.project_code = project_kpis.project_code
            and kpi_values.kpi_code = project_kpis.kpi_code

),

-- one value per KPI and prefecture within a report: sum-KPIs add up, latest takes the last
-- value listed, max and mean aggregate as named
aggregated as (

    select
        project_code,
        consortium_code,
        period,
        fiscal_year,
        kpi_code,
        kpi_key,
        pref_code,
        case any_value(aggregation)
            when 'sum' then sum(value)
            when 'max' then max(value)
            when 'mean' then avg(value)
            else arg_max(value, value_number)
        end as value,
        count(*) as values_count,
        bool_and(is_registered) as is_registered,
        any_value(aggregation) as aggregation,
        any_value(report_submitted_at) as report_submitted_at,
        any_value(report_event_id) as report_event_id,
        any_value(report_version) as report_version,
        any_value(kafka_topic) as kafka_topic,
        any_value(kafka_partition) as kafka_partition,
        any_value(kafka_offset) as kafka_offset
    from joined
    group by project_code, consortium_code, period, fiscal_year, kpi_code, kpi_key, pref_code

),

keyed as (

    select
        md5(concat_ws('|', project_code, kpi_code, period, coalesce(pref_code, '--')))
            as kpi_value_id,
        *
    from aggregated

)

select * from keyed
