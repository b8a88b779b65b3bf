{#- An area share (0..1, double) as an integer weight, so allocations stay in exact arithmetic. -#}
{% macro share_weight(share) -%}
    cast(round({{ share }} * 1e9) as hugeint)
{%- endmacro %}
