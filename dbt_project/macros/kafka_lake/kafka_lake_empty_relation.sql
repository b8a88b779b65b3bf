{#- The columns every lake Parquet file carries, used for the empty fallback relation. -#}
{% macro kafka_lake_empty_relation() -%}
    select
        cast(null as varchar) as _topic,
        cast(null as varchar) as _epoch,
        cast(null as integer) as _partition,
        cast(null as bigint) as _offset,
        cast(null as timestamptz) as _kafka_ts,
        cast(null as varchar) as _key,
        cast(null as blob) as _value,
        cast(null as timestamptz) as _ingested_at,
        cast(null as varchar) as _status,
        cast(null as varchar) as _error_class,
        cast(null as varchar) as _error_message,
        cast(null as varchar) as _lake_file
    where false
{%- endmacro %}
