with

consortia as (

    select * from {{ ref('int_consortia_latest') }}

),

consortium_prefectures as (

    select * from {{ ref('stg_kafka_lake__consortium_prefectures') }}

),

joined as (

    select distinct
        consortia.consortium_code,
        consortium_prefectures.pref_code,
        consortia.declared_on,
        consortia.consortium_registration_id
    from consortia
    inner join consortium_prefectures
        on consortia.consortium_registration_id = consortium_prefectures.consortium_registration_id

),

keyed as (

    select
        consortium_code || '-' || pref_code as consortium_prefecture_key,
        *
    from joined

)

select * from keyed
