{#- Fails when sum(column) over the model differs from sum(compare_column) over compare_model,
    optionally per group_by column. -#}
{% test sum_matches(model, column_name, compare_model, compare_column, group_by=none) %}
    with
    actual as (
        select
            {% if group_by %}{{ group_by }} as group_key,{% else %}1 as group_key,{% endif %}
            sum({{ column_name }}) as total
        from {{ model }}
        group by 1
    ),

    expected as (
        select
            {% if group_by %}{{ group_by }} as group_key,{% else %}1 as group_key,{% endif %}
            sum({{ compare_column }}) as total
        from {{ compare_model }}
        group by 1
    )

    select
        coalesce(actual.group_key, expected.group_key) as group_key,
        actual.total as actual_total,
        expected.total as expected_total
    from actual
    full outer join expected on actual.group_key is not distinct from expected.group_key
    where actual.total is distinct from expected.total
{% endtest %}
