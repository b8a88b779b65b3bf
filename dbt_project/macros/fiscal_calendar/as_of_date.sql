{#- The date fct_report_submission judges lateness against: var('as_of_date') or today. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', '') | string -%}
    {%- if value | trim -%}
        cast('{{ value | trim }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}
