with

prefectures as (

    select * from {{ ref('prefectures') }}

),

region_blocks as (

    select * from {{ ref('region_blocks') }}

),

joined as (

    select
        prefectures.pref_code,
        'JP-' || prefectures.pref_code as iso_code,
        prefectures.name_ja,
        prefectures.name_en,
        prefectures.region_block_code,
        region_blocks.name_ja as region_block_name_ja,
        region_blocks.name_en as region_block_name_en,
        prefectures.is_tokyo_area,
        prefectures.is_urban_area,
        prefectures.is_single_pref_region,
        region_blocks.plan_type as region_block_plan_type,
        prefectures.lg_code
    from prefectures
    left join region_blocks on prefectures.region_block_code = region_blocks.region_block_code

)

select * from joined
