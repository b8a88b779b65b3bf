{#- Fails once for every value of values that no row of the model has in column_name
    (the converse of accepted_values); restrict the rows with the test's where config. -#}
{% test contains_values(model, column_name, values) %}
    with

    expected as (

        select unnest([
            {%- for value in values %}
            '{{ value }}'{{ ',' if not loop.last }}
            {%- endfor %}
        ]) as expected_value

    ),

    actual as (

        select distinct {{ column_name }} as actual_value
        from {{ model }}

    )

    select expected_value from expected
    where expected_value not in (
        select actual.actual_value from actual where actual.actual_value is not null
    )
{% endtest %}
