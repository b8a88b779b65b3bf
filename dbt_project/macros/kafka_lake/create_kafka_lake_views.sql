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
