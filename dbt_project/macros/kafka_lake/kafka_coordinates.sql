{#- The select-list columns that name a lake row's Kafka message: its id and its coordinates. -#}
{% macro kafka_coordinates() -%}
    {{ kafka_message_id() }} as kafka_message_id,
    _topic as kafka_topic,
    _epoch as kafka_epoch,
    _partition as kafka_partition,
    _offset as kafka_offset,
    _kafka_ts as kafka_timestamp
{%- endmacro %}
