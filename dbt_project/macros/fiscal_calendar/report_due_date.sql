{#- Due date of a period's report: the period end plus var('report_due_days') (30) days. -#}
{% macro report_due_date(period_end_date) -%}
    cast({{ period_end_date }} + to_days({{ var('report_due_days', 30) }}) as date)
{%- endmacro %}
