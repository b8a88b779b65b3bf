with

funding_lines as (

    select * from {{ ref('int_funding_lines_latest') }}

),

project_areas as (

    select * from {{ ref('int_project_areas_versioned') }}

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
        cast(round(project_areas.share * 1e9) as hugeint) as weight,
        sum(cast(round(project_areas.share * 1e9) as hugeint))
            over (partition by lines_to_allocate.funding_line_id)
            as total_weight
    from lines_to_allocate
    -- the areas registered when the report was submitted (the first registration also covers
    -- reports that arrived before it)
    inner join project_areas
        on
            lines_to_allocate.project_code = project_areas.project_code
            and (
                project_areas.is_first_version
                or lines_to_allocate.report_submitted_at >= project_areas.valid_from
            )
            and (
                project_areas.valid_to is null
                or lines_to_allocate.report_submitted_at < project_areas.valid_to
            )

),

base_shares as (

    select
        *,
        (cast(amount_jpy as hugeint) * weight) // total_weight as base_amount_jpy,
        (cast(amount_jpy as hugeint) * weight) % total_weight as remainder_weight
    from weighted_areas

),

-- largest remainder: the yen left after flooring go one each to the largest remainders
ranked_remainders as (

    select
        *,
        amount_jpy - sum(base_amount_jpy) over (partition by funding_line_id) as leftover_jpy,
        row_number() over (
            partition by funding_line_id
            order by remainder_weight desc, pref_code asc
        ) as remainder_rank
    from base_shares

),

allocated_lines as (

    select
        * exclude (
            weight, total_weight, base_amount_jpy, remainder_weight, leftover_jpy, remainder_rank
        ),
        cast(
            base_amount_jpy + case when remainder_rank <= leftover_jpy then 1 else 0 end
            as bigint
        ) as allocated_to_pref_jpy,
        true as is_allocated
    from ranked_remainders

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
