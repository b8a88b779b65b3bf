{#- A replayed lander may write the same Kafka message twice: one row per Kafka coordinate
    (topic, epoch, partition, offset) of a lake relation, the first one ingested. -#}
{% macro one_copy_per_message(relation) -%}
    select * from {{ relation }}
    qualify row_number() over (
        partition by _topic, _epoch, _partition, _offset
        order by _ingested_at
    ) = 1
{%- endmacro %}
