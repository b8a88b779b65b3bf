{#- Due date of a period's report: the period end plus var('report_due_days') (30) days. -#}
{% macro report_due_date(period_end_date) -%}
    cast({{ period_end_date }} + to_days({{ var('report_due_days', 30) }}) as date)
{%- endmacro %}


{#- The calendar date in Japan of a timestamptz (deadlines are Japanese dates). -#}
{% macro date_in_japan(ts) -%}
    cast(timezone('Asia/Tokyo', {{ ts }}) as date)
{%- endmacro %}
