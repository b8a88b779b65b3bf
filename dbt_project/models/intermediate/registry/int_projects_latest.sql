with

projects as (

    select * from {{ ref('stg_kafka_lake__projects') }}

),

-- a later registration replaces the earlier one; offset breaks ties within a partition
latest as (

    select * from projects
    qualify row_number() over (
        partition by project_code
        order by submitted_at desc, kafka_timestamp desc, kafka_offset desc
    ) = 1

)

select * from latest
