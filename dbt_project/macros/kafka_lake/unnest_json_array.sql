{#- One row per element of a JSON array in each parsed document of a base model:
    kafka_message_id, the carried top-level fields, the element (json) and its 1-based number.
    entity keeps only registry documents of that entity ('project', 'consortium'). -#}
{% macro unnest_json_array(events, array_path, element, number, carry=[], entity=none) %}
    with

    documents as (

        select
            kafka_message_id,
            {%- for field in carry %}
            {#- project_code is a base model column: a filter on it reaches the table scan -#}
            {%- if field == 'project_code' %}
            project_code,
            {%- else %}
            document ->> '$.{{ field }}' as {{ field }},
            {%- endif %}
            {%- endfor %}
            json_extract(document, '{{ array_path }}') as json_array
        from {{ events }}
        {%- if entity %}
        where document ->> '$.entity' = '{{ entity }}'
        {%- endif %}

    )

    select
        kafka_message_id,
        {%- for field in carry %}
        {{ field }},
        {%- endfor %}
        unnest(json_array) as {{ element }},
        generate_subscripts(json_array, 1) as {{ number }}
    from documents
{% endmacro %}
