{#- The calendar date in Japan of a timestamptz (deadlines are Japanese dates). -#}
{% macro date_in_japan(ts) -%}
    cast(timezone('Asia/Tokyo', {{ ts }}) as date)
{%- endmacro %}
