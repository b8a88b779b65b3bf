{{ config(severity='error') }}
-- A node's linked KPIs are its own plus its children's, and so is a sum node's contribution over
-- children in its unit: nothing counted twice, nothing lost on the way up.
with

rollup as (

    select * from {{ ref('fct_logic_model_rollup') }}

),

children as (

    select
        parent_code as node_code,
        sum(linked_kpis) as children_kpis
    from rollup
    where parent_code is not null
    group by parent_code

)

select
    rollup.node_code,
    rollup.direct_kpis,
    rollup.linked_kpis,
    children.children_kpis
from rollup
left join children on rollup.node_code = children.node_code
where
    rollup.linked_kpis != rollup.direct_kpis + coalesce(children.children_kpis, 0)
    or rollup.linked_kpis
    != rollup.achieved_kpis + rollup.on_track_kpis + rollup.behind_kpis + rollup.not_reported_kpis
    + rollup.no_target_kpis
