{#- read_parquet over a topic's files, or an empty typed relation when none has landed
    (read_parquet fails on a glob that matches nothing). _lake_file names the file a row came
    from, relative to the lake root (<topic>/epoch=<e>/partition=<p>/<first>-<last>.parquet).
    loaded_files: a relation whose lake_file column lists files already loaded (an incremental
    base model's {{ this }}); then only the other files are read, named one by one. Without it
    the glob itself is read, so a view over it sees files landed later. -#}
{% macro read_lake(topic, loaded_files=none) -%}
    {%- set pattern = (kafka_lake_root() ~ '/' ~ topic ~ '/epoch=*/partition=*/*.parquet') | replace("'", "''") -%}
    {%- set files = [] -%}
    {%- if execute -%}
        {%- set listing -%}
            select file from glob('{{ pattern }}')
            {%- if loaded_files is not none %}
                where {{ lake_file_name('file') }} not in (
                    select loaded.lake_file from {{ loaded_files }} as loaded
                    where loaded.lake_file is not null
                )
            {%- endif %}
            order by file
        {%- endset -%}
        {%- set files = run_query(listing).columns[0].values() -%}
    {%- endif -%}
    {%- if files | length > 0 -%}
        select
            * exclude (filename),
            {{ lake_file_name('filename') }} as _lake_file
        from read_parquet(
            {%- if loaded_files is none %}
            '{{ pattern }}',
            {%- else %}
            [{%- for file in files %}'{{ file | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}],
            {%- endif %}
            hive_partitioning = false, union_by_name = true, filename = true
        )
    {%- else -%}
        {{ kafka_lake_empty_relation() }}
    {%- endif -%}
{%- endmacro %}
