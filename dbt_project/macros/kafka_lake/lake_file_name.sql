{#- A lake file's name relative to the lake root, <topic>/epoch=<e>/partition=<p>/<file>.parquet,
    so a moved data dir does not make every file look new. -#}
{% macro lake_file_name(path) -%}
    regexp_extract({{ path }}, '[^/]+/epoch=[^/]+/partition=[^/]+/[^/]+$')
{%- endmacro %}
