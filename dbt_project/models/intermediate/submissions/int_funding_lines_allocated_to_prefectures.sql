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

funding_lines as (

    select * from {{ ref('int_funding_lines_latest') }}
    {{ changed_projects_only() }}

),

project_areas as (

    select * from {{ ref('int_project_areas_versioned') }}
    {{ changed_projects_only() }}

),

-- lines that name a prefecture stay there
direct_lines as (

    select
        *,
        amount_jpy as allocated_to_pref_jpy,
        false as is_allocated
    from funding_lines
    where pref_code is not null

),

lines_to_allocate as (

    select * exclude (pref_code) from funding_lines
    where pref_code is null

),

-- integer weights keep the whole allocation in exact arithmetic
weighted_areas as (

    select
        lines_to_allocate.*,
        project_areas.pref_code,
        {{ share_weight('project_areas.share') }} as weight,
        sum({{ share_weight('project_areas.share') }})
            over (partition by lines_to_allocate.funding_line_id)
            as total_weight
    from lines_to_allocate
    -- the areas registered when the report was submitted
    inner join project_areas
        on {{ areas_valid_at('project_areas', 'lines_to_allocate') }}

),

-- largest remainder: the yen left after flooring go one each to the largest remainders
split_lines as (

    {{ largest_remainder(
        'weighted_areas',
        amount='amount_jpy',
        weight='weight',
        total_weight='total_weight',
        partition_by='funding_line_id',
        tie_break='pref_code asc',
        allocated_as='split_amount_jpy'
    ) }}

),

allocated_lines as (

    select
        * exclude (weight, total_weight, split_amount_jpy),
        cast(split_amount_jpy as bigint) as allocated_to_pref_jpy,
        true as is_allocated
    from split_lines

),

-- a line without pref_code for a project with no registered areas cannot be allocated;
-- keep it with a null prefecture so totals still reconcile (flagged by a warn test)
unallocatable_lines as (

    select
        *,
        amount_jpy as allocated_to_pref_jpy,
        false as is_allocated
    from funding_lines
    where
        pref_code is null
        and project_code not in (select project_areas.project_code from project_areas)

),

unioned as (

    select * from direct_lines
    union all by name
    select * from allocated_lines
    union all by name
    select * from unallocatable_lines

),

final as (

    select
        md5(concat_ws('|', funding_line_id, coalesce(pref_code, '--'))) as allocation_id,
        funding_line_id,
        line_number,
        project_code,
        consortium_code,
        period,
        fiscal_year,
        source_type,
        stage,
        pref_code,
        amount_jpy as reported_amount_jpy,
        allocated_to_pref_jpy as amount_jpy,
        is_allocated,
        report_event_id,
        report_version,
        kafka_topic,
        kafka_partition,
        kafka_offset
    from unioned

)

select * from final
