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
