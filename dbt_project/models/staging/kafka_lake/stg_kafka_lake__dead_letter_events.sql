with

registry_source as (

    select * from {{ source('kafka_lake', 'registry_v1') }}

),

reports_source as (

    select * from {{ source('kafka_lake', 'reports_v1') }}

),

-- the lander writes dead letters into the same files as landed rows, flagged by _status
dead_letters as (

    select * from registry_source
    where _status = 'dead_letter'

    union all by name

    select * from reports_source
    where _status = 'dead_letter'

),

-- one copy per Kafka coordinate, as for landed rows
one_copy_per_message as (

    {{ one_copy_per_message('dead_letters') }}

),

renamed as (

    select
        {{ kafka_coordinates() }},
        _ingested_at as ingested_at,
        _error_class as error_class,
        _error_message as error_message,
        _key as kafka_key,
        octet_length(_value) as value_bytes,
        {#- decode() fails on invalid UTF-8. The blob's text form escapes every byte outside
            printable ASCII as \xNN; bytes >= 0x80 become the UTF-8 of U+FFFD and the rest
            decode as they were (valid multi-byte characters of such a message are replaced too) -#}
        left(
            coalesce(
                try(decode(_value)),
                decode(cast(regexp_replace(
                    cast(_value as varchar),
                    '\\x[89A-Fa-f][0-9A-Fa-f]',
                    '\\xEF\\xBF\\xBD',
                    'g'
                ) as blob))
            ),
            200
        ) as value_preview
    from one_copy_per_message

)

select * from renamed
