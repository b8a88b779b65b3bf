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

allocated_lines as (

    select * from {{ ref('int_funding_lines_allocated_to_prefectures') }}
    {{ changed_projects_only() }}

),

-- one latest report per project x period, so the report lineage is constant per group
aggregated as (

    select
        project_code,
        consortium_code,
        period,
        fiscal_year,
        source_type,
        stage,
        pref_code,
        cast(sum(amount_jpy) as bigint) as amount_jpy,
        cast(sum(case when is_allocated then amount_jpy else 0 end) as bigint)
            as allocated_amount_jpy,
        any_value(report_event_id) as report_event_id,
        any_value(report_version) as report_version,
        any_value(kafka_topic) as kafka_topic,
        any_value(kafka_partition) as kafka_partition,
        any_value(kafka_offset) as kafka_offset
    from allocated_lines
    group by project_code, consortium_code, period, fiscal_year, source_type, stage, pref_code

),

keyed as (

    select
        md5(concat_ws(
            '|', project_code, period, source_type, stage, coalesce(pref_code, '--')
        )) as investment_key,
        *
    from aggregated

)

select * from keyed
