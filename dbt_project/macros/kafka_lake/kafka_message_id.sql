{#- The id of a Kafka message in the lake: a hash of its coordinates. -#}
{% macro kafka_message_id() -%}
    md5(concat_ws('|', _topic, _epoch, _partition, _offset))
{%- endmacro %}
