with

consortia as (

    select * from {{ ref('int_consortia_latest') }}

),

consortium_prefectures as (

    select * from {{ ref('int_consortium_prefectures_latest') }}

),

prefectures as (

    select * from {{ ref('dim_prefecture') }}

),

prefecture_lists as (

    select
        consortium_prefectures.consortium_code,
        count(*) as prefecture_count,
        string_agg(consortium_prefectures.pref_code, ',' order by consortium_prefectures.pref_code)
            as prefecture_codes,
        string_agg(
            distinct prefectures.region_block_code, ',' order by prefectures.region_block_code
        ) as region_block_codes
    from consortium_prefectures
    left join prefectures on consortium_prefectures.pref_code = prefectures.pref_code
    group by consortium_prefectures.consortium_code

),

final as (

    select
        consortia.consortium_code,
        consortia.name_ja,
        consortia.name_en,
        consortia.declared_on,
        coalesce(prefecture_lists.prefecture_count, 0) as prefecture_count,
        consortia.members_count as member_count,
        prefecture_lists.prefecture_codes,
        prefecture_lists.region_block_codes,
        consortia.submitted_at,
        consortia.event_id,
        consortia.kafka_topic,
        consortia.kafka_partition,
        consortia.kafka_offset
    from consortia
    left join prefecture_lists on consortia.consortium_code = prefecture_lists.consortium_code

)

select * from final
