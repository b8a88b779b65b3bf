{{ config(severity='error') }}
-- Unit consistency: a contribution is summed only at a sum node, only from sum-KPIs in the node's
-- own unit, and a sum node's unit is one that adds up (never a share, rate, ratio or text).
with

rollup as (

    select * from {{ ref('fct_logic_model_rollup') }}

),

progress as (

    select * from {{ ref('fct_project_kpi_progress') }}
    where is_latest and link_status = 'linked'

),

-- the sum-KPIs linked directly to a sum node, in its unit, recomputed from the progress rows
direct_sums as (

    select
        rollup.node_code,
        sum(progress.contribution) as contribution
    from rollup
    inner join progress
        on
            rollup.node_code = progress.contributes_to
            and rollup.unit = progress.unit
            and progress.level_rule = 'sum'
    group by rollup.node_code

)

select
    rollup.node_code,
    rollup.rollup_rule,
    rollup.unit,
    rollup.summed_contribution
from rollup
left join direct_sums on rollup.node_code = direct_sums.node_code
where
    (rollup.rollup_rule = 'count_only' and rollup.summed_contribution is not null)
    or (
        rollup.rollup_rule = 'sum'
        and rollup.unit in ('PCT', 'PCT_YOY', 'RATIO', 'TEXT', 'MILESTONE')
    )
    or (rollup.rollup_rule = 'sum' and rollup.unit is null)
    -- national KPIs are leaves or hang under another KPI of the same unit (same_as), so a sum
    -- node's contribution is what is linked to it directly
    or (
        rollup.rollup_rule = 'sum'
        and abs(rollup.summed_contribution - coalesce(direct_sums.contribution, 0)) > 1e-6
    )
