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

-- the status that stands for a fiscal year is the one of its latest period
-- (FY2026Q4, FY2026H2 and FY2026 all end on 31 March; the later submission wins)
latest_in_fiscal_year as (

    select * from reports
    qualify row_number() over (
        partition by project_code, fiscal_year
        order by period_end_date desc, submitted_at desc, kafka_timestamp desc, kafka_offset desc
    ) = 1

),

final as (

    select
        project_code || '-' || fiscal_year as project_fiscal_year_key,
        project_code,
        consortium_code,
        fiscal_year,
        period,
        status,
        percent_complete,
        event_id as report_event_id,
        version as report_version,
        kafka_topic,
        kafka_partition,
        kafka_offset
    from latest_in_fiscal_year

)

select * from final
