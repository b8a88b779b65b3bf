{{
    config(
        materialized='incremental',
        on_schema_change='fail'
    )
}}

{#- Landed registry messages, parsed; incremental (see the kafka_lake_base macro). -#}
{{ kafka_lake_base(source('kafka_lake', 'registry_v1')) }}
