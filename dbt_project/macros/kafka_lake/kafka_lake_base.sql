{#- The landed messages of one kafka_lake source table, one copy per Kafka coordinate, with the
    Kafka coordinates renamed, the value parsed as JSON (document), its project_code (null for a consortium), the lake file
    it came from (lake_file) and the dbt invocation that loaded it (loaded_by, which int_projects_changed
    turns into the projects a build must redo).

    For an incremental model: only lake files not yet loaded are read (a file is written whole
    and never changes, see kouiki.lake.files), and of those only offsets past the highest already
    loaded for their epoch and partition, so a lander replay that lands a message again in a new
    file is not loaded twice. -#}
{% macro kafka_lake_base(source_relation) %}
{%- set topic = [none] -%}
{%- if execute -%}
    {%- for node in graph.sources.values()
        if node.source_name == 'kafka_lake' and node.identifier == source_relation.identifier -%}
        {%- do topic.append(node.meta.get('topic') or node.config.meta.get('topic')) -%}
    {%- endfor -%}
{%- endif -%}
with

source as (

    {% if is_incremental() -%}
        {{ read_lake(topic[-1], loaded_files=this) }}
    {%- else -%}
        select * from {{ source_relation }}
    {%- endif %}

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
        cast(decode(_value) as json) as document,
        _lake_file as lake_file,
        '{{ invocation_id }}' as loaded_by
    from one_copy_per_message

),

-- a column, so the project filter of an incremental run reaches the table scan
with_project_code as (

    select
        *,
        document ->> '$.project_code' as project_code
    from renamed

)

select * from with_project_code
{% endmacro %}
