with

consortia as (

    select * from {{ ref('stg_kafka_lake__consortia') }}

),

-- a later registration replaces the earlier one; offset breaks ties within a partition
latest as (

    select * from consortia
    qualify row_number() over (
        partition by consortium_code
        order by submitted_at desc, kafka_timestamp desc, kafka_offset desc
    ) = 1

)

select * from latest
