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

    select * from {{ ref('stg_kafka_lake__reports') }}
    {{ changed_projects_only() }}

),

-- every version and re-send of a project x period, summarised; the highest version (latest
-- arrival on a tie) names the latest event
summarised as (

    select
        project_code,
        period,
        any_value(consortium_code) as consortium_code,
        min(submitted_at) as first_submitted_at,
        max(submitted_at) as latest_submitted_at,
        count(distinct event_id) as versions_count,
        max(version) as latest_version,
        arg_max(event_id, [version, epoch_ms(kafka_timestamp), kafka_offset]) as latest_event_id
    from reports
    group by project_code, period

),

keyed as (

    select
        project_code || '-' || period as project_period_key,
        *
    from summarised

)

select * from keyed
