{{
    config(
        materialized='incremental',
        on_schema_change='fail'
    )
}}

{#- Landed report messages, parsed; incremental (see the kafka_lake_base macro). -#}
{{ kafka_lake_base(source('kafka_lake', 'reports_v1')) }}
