{#- Absolute lake root, so views stored in the warehouse work from any working directory.
    A relative KOUIKI_DATA_DIR is taken relative to the dbt project directory. -#}
{% macro kafka_lake_root() -%}
    {%- set data_dir = var('kouiki_data_dir') | string -%}
    {%- if not data_dir.startswith('/') -%}
        {%- set project_dir = invocation_args_dict.get('project_dir') or '.' -%}
        {%- set data_dir = project_dir ~ '/' ~ data_dir -%}
        {%- if not data_dir.startswith('/') -%}
            {%- set data_dir = env_var('PWD', '.') ~ '/' ~ data_dir -%}
        {%- endif -%}
    {%- endif -%}
    {{- data_dir.rstrip('/') ~ '/lake/raw' -}}
{%- endmacro %}


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
        cast(null as varchar) as _error_message
    where false
{%- endmacro %}


{#- read_parquet over a topic's files, or an empty typed relation when none has landed
    (read_parquet fails on a glob that matches nothing). -#}
{% macro read_lake(topic) -%}
    {%- set pattern = (kafka_lake_root() ~ '/' ~ topic ~ '/epoch=*/partition=*/*.parquet') | replace("'", "''") -%}
    {%- set file_count = 0 -%}
    {%- if execute -%}
        {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
        {%- set file_count = found.columns[0].values()[0] -%}
    {%- endif -%}
    {%- if file_count > 0 -%}
        select * from read_parquet('{{ pattern }}', hive_partitioning = false, union_by_name = true)
    {%- else -%}
        {{ kafka_lake_empty_relation() }}
    {%- endif -%}
{%- endmacro %}


{#- on-run-start: one view per kafka_lake source table (meta.topic), in the source's schema. -#}
{% macro create_kafka_lake_views() %}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.source_name == 'kafka_lake' -%}
            {%- set topic = node.meta.get('topic') or node.config.meta.get('topic') -%}
            {%- set create_sql -%}
                create schema if not exists {{ node.schema }};
                create or replace view {{ node.schema }}.{{ node.identifier }} as
                {{ read_lake(topic) }}
            {%- endset -%}
            {%- do run_query(create_sql) -%}
            {{ log('kafka_lake: ' ~ node.schema ~ '.' ~ node.identifier ~ ' <- ' ~ topic) }}
        {%- endfor -%}
    {%- endif -%}
    select 1
{% endmacro %}
