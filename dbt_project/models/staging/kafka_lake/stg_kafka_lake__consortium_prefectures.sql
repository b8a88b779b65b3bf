with

consortia as (

    select * from {{ ref('stg_kafka_lake__consortia') }}

),

unnested as (

    select
        consortium_registration_id,
        consortium_code,
        unnest(prefecture_codes) as pref_code
    from consortia

),

keyed as (

    select
        md5(concat_ws('|', consortium_registration_id, pref_code)) as consortium_prefecture_id,
        consortium_registration_id,
        consortium_code,
        pref_code
    from unnested

)

select * from keyed
