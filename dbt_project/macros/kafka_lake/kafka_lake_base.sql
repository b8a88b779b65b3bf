{#- The landed messages of one kafka_lake source table, one copy per Kafka coordinate, with the
    Kafka coordinates renamed and the value parsed as JSON (document).

    For an incremental model: the lake is append-only per (epoch, partition) in offset order,
    so a build only parses the JSON of messages past the highest offset already loaded. -#}
{% macro kafka_lake_base(source_relation) %}
with

source as (

    select * from {{ source_relation }}

),

landed as (

    -- dead letters are not contract documents; fct_dead_letter_events shows them
    select * from source
    where _status = 'landed'

),

new_messages as (

    select * from landed
    {% if is_incremental() %}
        -- only what lies past the highest offset already loaded for its epoch and partition
        where landed._offset > coalesce((
            select max(loaded.kafka_offset) from {{ this }} as loaded
            where
                loaded.kafka_epoch = landed._epoch
                and loaded.kafka_partition = landed._partition
        ), -1)
    {% endif %}

),

one_copy_per_message as (

    {{ one_copy_per_message('new_messages') }}

),

renamed as (

    select
        {{ kafka_coordinates() }},
        _key as kafka_key,
        _ingested_at as ingested_at,
        cast(decode(_value) as json) as document
    from one_copy_per_message

)

select * from renamed
{% endmacro %}
