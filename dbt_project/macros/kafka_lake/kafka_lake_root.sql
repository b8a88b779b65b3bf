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
