{#- The lander's stuck partitions (<data dir>/run/stuck_partitions.json, a JSON array the lander
    replaces whole), or an empty typed relation before any ingest run wrote it. -#}
{% macro read_stuck_partitions() -%}
    {%- set path = (kafka_lake_root().rsplit('/', 2)[0] ~ '/run/stuck_partitions.json') | replace("'", "''") -%}
    {%- set file_count = 0 -%}
    {%- if execute -%}
        {%- set found = run_query("select count(*) from glob('" ~ path ~ "')") -%}
        {%- set file_count = found.columns[0].values()[0] -%}
    {%- endif -%}
    {%- if file_count > 0 -%}
        select * from read_json(
            '{{ path }}',
            format = 'array',
            columns = {
                topic: 'varchar',
                epoch: 'varchar',
                partition: 'integer',
                "offset": 'bigint',
                error_class: 'varchar',
                error_message: 'varchar',
                first_seen: 'timestamptz',
                last_seen: 'timestamptz'
            }
        )
    {%- else -%}
        select
            cast(null as varchar) as topic,
            cast(null as varchar) as epoch,
            cast(null as integer) as partition,
            cast(null as bigint) as "offset",
            cast(null as varchar) as error_class,
            cast(null as varchar) as error_message,
            cast(null as timestamptz) as first_seen,
            cast(null as timestamptz) as last_seen
        where false
    {%- endif -%}
{%- endmacro %}
