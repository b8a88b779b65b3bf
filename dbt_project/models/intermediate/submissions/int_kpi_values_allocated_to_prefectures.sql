{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_projects() }}"
    )
}}

{#- Incremental by project: a build redoes only the projects int_projects_changed lists. -#}
-- depends_on: {{ ref('int_projects_changed') }}

with

kpi_values as (

    select * from {{ ref('int_kpi_values_latest') }}
    {{ changed_projects_only() }}

),

project_kpis as (

    select * from {{ ref('int_project_kpis_latest') }}
    {{ changed_projects_only() }}

),

project_areas as (

    select * from {{ ref('int_project_areas_versioned') }}
    {{ changed_projects_only() }}

),

-- areas valid when the report was submitted, as for funding
values_with_areas as (

    select
        kpi_values.kpi_value_id,
        project_areas.pref_code,
        project_areas.share
    from kpi_values
    inner join project_areas
        on {{ areas_valid_at('project_areas', 'kpi_values') }}

),

-- counts (persons, firms, sites ...) reported as whole numbers are split in whole units by
-- largest remainder; everything else is split in proportion to the shares. When a report gives
-- a sum-KPI's project total (no pref_code) and prefecture parts too, only the part of the total
-- that no prefecture accounts for is allocated, so nothing is counted twice.
with_parts as (

    select
        *,
        sum(value) filter (where pref_code is not null) over (
            partition by project_code, period, kpi_code
        ) as prefecture_parts
    from kpi_values

),

classified as (

    select
        kpi_values.* exclude (kpi_values.value, kpi_values.prefecture_parts),
        case
            when kpi_values.aggregation = 'sum' and kpi_values.pref_code is null
                then greatest(kpi_values.value - coalesce(kpi_values.prefecture_parts, 0), 0)
            else kpi_values.value
        end as value,
        project_kpis.unit,
        kpi_values.aggregation = 'sum' and kpi_values.pref_code is null as is_to_allocate,
        (
            upper(project_kpis.unit) in ('PERSON', 'PERSON_CUM', 'COUNT')
            or upper(project_kpis.unit) like 'COUNT\_%' escape '\'
        )
        and kpi_values.value = round(kpi_values.value)
        and kpi_values.value >= 0 as is_whole_count
    from with_parts as kpi_values
    left join project_kpis on kpi_values.kpi_key = project_kpis.kpi_key

),

-- sum-KPIs reported per prefecture, and all other KPIs, stay as reported
values_to_keep as (

    select * exclude (is_to_allocate, is_whole_count) from classified
    where not is_to_allocate

),

kept_values as (

    select
        values_to_keep.*,
        values_with_areas.share as area_share,
        false as is_allocated,
        case
            when values_to_keep.aggregation = 'sum' then 'reported'
            else 'project_level'
        end as allocation_method
    from values_to_keep
    left join values_with_areas
        on
            values_to_keep.kpi_value_id = values_with_areas.kpi_value_id
            and values_to_keep.pref_code = values_with_areas.pref_code

),

values_to_allocate as (

    select * exclude (pref_code, is_to_allocate) from classified
    where is_to_allocate

),

weighted as (

    select
        values_to_allocate.*,
        values_with_areas.pref_code,
        values_with_areas.share as area_share,
        {{ share_weight('values_with_areas.share') }} as weight,
        sum({{ share_weight('values_with_areas.share') }})
            over (partition by values_to_allocate.kpi_value_id)
            as total_weight
    from values_to_allocate
    inner join values_with_areas
        on values_to_allocate.kpi_value_id = values_with_areas.kpi_value_id

),

proportional_values as (

    select
        * exclude (is_whole_count, weight, total_weight, value),
        value * weight / total_weight as value,
        true as is_allocated,
        'proportional' as allocation_method
    from weighted
    where not is_whole_count

),

whole_counts as (

    select * from weighted
    where is_whole_count

),

split_counts as (

    {{ largest_remainder(
        'whole_counts',
        amount='value',
        weight='weight',
        total_weight='total_weight',
        partition_by='kpi_value_id',
        tie_break='pref_code asc',
        allocated_as='split_count'
    ) }}

),

count_values as (

    select
        * exclude (is_whole_count, weight, total_weight, value, split_count),
        cast(split_count as double) as value,
        true as is_allocated,
        'largest_remainder' as allocation_method
    from split_counts

),

unioned as (

    select * from kept_values
    union all by name
    select * from proportional_values
    union all by name
    select * from count_values

),

-- a prefecture's reported part and its share of the unattributed remainder meet at one grain
-- and add up
combined as (

    select
        project_code,
        consortium_code,
        period,
        fiscal_year,
        kpi_code,
        kpi_key,
        pref_code,
        sum(value) as value,
        any_value(area_share) as area_share,
        bool_or(is_allocated) as is_allocated,
        string_agg(distinct allocation_method, '+' order by allocation_method)
            as allocation_method,
        bool_and(is_registered) as is_registered,
        any_value(aggregation) as aggregation,
        any_value(report_event_id) as report_event_id,
        any_value(report_version) as report_version,
        any_value(kafka_topic) as kafka_topic,
        any_value(kafka_partition) as kafka_partition,
        any_value(kafka_offset) as kafka_offset
    from unioned
    group by project_code, consortium_code, period, fiscal_year, kpi_code, kpi_key, pref_code

),

keyed as (

    select
        md5(concat_ws('|', project_code, kpi_code, period, coalesce(pref_code, '--')))
            as contribution_key,
        *
    from combined

)

select * from keyed
