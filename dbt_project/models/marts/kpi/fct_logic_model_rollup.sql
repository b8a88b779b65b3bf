{#- Every node of the logic model with the project KPIs linked to it or to any node below it, at
    the as-of date (each KPI's latest row of fct_project_kpi_progress): how many, and how many are
    achieved, on track, behind or not reported. A contribution is summed only where the node's
    rollup_rule is sum, and then only over sum-KPIs in the node's own unit; every other KPI is
    counted, never added, and no ratio is averaged. A KPI is linked to one node, and a node has
    one parent, so each KPI counts once at every ancestor. -#}
with recursive

nodes as (

    select * from {{ ref('dim_logic_model_node') }}

),

progress as (

    select * from {{ ref('fct_project_kpi_progress') }}
    where is_latest and link_status = 'linked'

),

-- each node with itself and every node below it
subtree as (

    select
        node_code as ancestor_code,
        node_code
    from nodes

    union all

    select
        subtree.ancestor_code,
        nodes.node_code
    from subtree
    inner join nodes on subtree.node_code = nodes.parent_code

),

linked as (

    select
        subtree.ancestor_code as node_code,
        progress.kpi_key,
        progress.project_code,
        progress.contributes_to,
        progress.unit,
        progress.level_rule,
        progress.contribution,
        progress.status
    from subtree
    inner join progress on subtree.node_code = progress.contributes_to

),

counted as (

    select
        nodes.node_code,
        count(linked.kpi_key) filter (where linked.contributes_to = nodes.node_code) as direct_kpis,
        count(linked.kpi_key) as linked_kpis,
        count(distinct linked.project_code) as linked_projects,
        count(linked.kpi_key) filter (where linked.status = 'achieved') as achieved_kpis,
        count(linked.kpi_key) filter (where linked.status = 'on_track') as on_track_kpis,
        count(linked.kpi_key) filter (where linked.status = 'behind') as behind_kpis,
        count(linked.kpi_key) filter (where linked.status = 'not_reported') as not_reported_kpis,
        count(linked.kpi_key) filter (where linked.status = 'no_target') as no_target_kpis,
        count(linked.kpi_key) filter (
            where nodes.rollup_rule = 'sum'
            and linked.level_rule = 'sum'
            and linked.unit = nodes.unit
        ) as summed_kpis,
        sum(linked.contribution) filter (
            where nodes.rollup_rule = 'sum'
            and linked.level_rule = 'sum'
            and linked.unit = nodes.unit
        ) as summed_contribution
    from nodes
    left join linked on nodes.node_code = linked.node_code
    group by nodes.node_code

),

final as (

    select
        nodes.node_code,
        nodes.parent_code,
        nodes.tier,
        nodes.name_ja,
        nodes.goal_code,
        nodes.node_depth,
        nodes.unit,
        nodes.rollup_rule,
        nodes.baseline_value,
        nodes.target_value,
        nodes.target_year,
        counted.direct_kpis,
        counted.linked_kpis,
        counted.linked_projects,
        counted.achieved_kpis,
        counted.on_track_kpis,
        counted.behind_kpis,
        counted.not_reported_kpis,
        counted.no_target_kpis,
        counted.summed_kpis,
        case when nodes.rollup_rule = 'sum' then coalesce(counted.summed_contribution, 0) end
            as summed_contribution,
        case
            when nodes.rollup_rule = 'sum' and nodes.target_value > 0
                then coalesce(counted.summed_contribution, 0) / nodes.target_value
        end as summed_share_of_target
    from nodes
    inner join counted on nodes.node_code = counted.node_code

)

select * from final
