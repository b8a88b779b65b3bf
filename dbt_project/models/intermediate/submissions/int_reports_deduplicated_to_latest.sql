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

-- highest version wins; a re-sent event (same event_id) or a same-version resubmission
-- falls to the latest arrival (Kafka timestamp, then offset: offsets restart in a new epoch),
-- so each project x period counts once
latest as (

    select * from reports
    qualify row_number() over (
        partition by project_code, period
        order by version desc, kafka_timestamp desc, kafka_offset desc
    ) = 1

),

keyed as (

    select
        project_code || '-' || period as project_period_key,
        *
    from latest

)

select * from keyed
