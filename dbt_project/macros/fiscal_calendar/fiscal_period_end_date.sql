{#- Last day of a Japanese fiscal period (FY runs April-March): FY2026Q1 -> 2026-06-30,
    FY2026Q4 / FY2026H2 / FY2026 -> 2027-03-31. -#}
{% macro fiscal_period_end_date(period) -%}
    case
        when {{ period }} similar to 'FY[0-9]{4}Q[1-3]'
            then last_day(make_date(
                cast(substr({{ period }}, 3, 4) as integer),
                cast(substr({{ period }}, 8, 1) as integer) * 3 + 3,
                1
            ))
        when {{ period }} similar to 'FY[0-9]{4}H1'
            then make_date(cast(substr({{ period }}, 3, 4) as integer), 9, 30)
        when {{ period }} similar to 'FY[0-9]{4}(Q4|H2)?'
            then make_date(cast(substr({{ period }}, 3, 4) as integer) + 1, 3, 31)
    end
{%- endmacro %}
