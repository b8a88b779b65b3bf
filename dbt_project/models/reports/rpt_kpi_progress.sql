{#- Project KPIs against baseline and target per fiscal year, with their place on the logic model
    and Japanese labels: the KPI進捗 dashboard's logic-model view (goal → impact KPI → the node a
    KPI serves → the KPI) and its traffic lights, and the 事業カルテ's KPI table. -#}
with

progress as (

    select * from {{ ref('fct_project_kpi_progress') }}

),

projects as (

    select * from {{ ref('dim_project') }}

),

nodes as (

    select * from {{ ref('dim_logic_model_node') }}

),

labels as (

    select * from {{ ref('rpt_code_labels') }}

),

impact_kpis as (

    select
        goal_code,
        min(name_ja) as impact_kpi_name_ja
    from nodes
    where tier = 'impact_kpi'
    group by goal_code

),

-- each KPI's goal: that of the node it serves; a LOCAL KPI's is its project's
placed as (

    select
        progress.kpi_progress_key,
        coalesce(nodes.goal_code, projects.goal_code) as goal_code
    from progress
    inner join projects on progress.project_code = projects.project_code
    left join nodes on progress.contributes_to = nodes.node_code

),

final as (

    select
        progress.kpi_progress_key,
        progress.consortium_code,
        projects.consortium_name_ja,
        progress.project_code,
        projects.title_ja as project_title_ja,
        {{ karte_link('progress.project_code') }} as karte_link,
        progress.kpi_code,
        progress.kpi_name_ja,
        progress.fiscal_year,
        progress.is_latest,
        progress.unit,
        coalesce(unit_label.name_ja, progress.unit) as unit_name_ja,
        progress.baseline,
        progress.target,
        progress.target_fy,
        progress.actual_value,
        round(progress.progress * 100, 1) as progress_pct,
        round(progress.expected_progress * 100, 1) as expected_pct,
        -- progress as a share of the pace: the status rule's own ratio (on track from 90 %), which
        -- the dashboards colour as a traffic light
        round(progress.progress / nullif(progress.expected_progress, 0) * 100, 1) as pace_pct,
        progress.status,
        status_label.name_ja as status_name_ja,
        status_label.sort_order as status_order,
        (progress.status = 'achieved')::integer as is_achieved,
        (progress.status = 'on_track')::integer as is_on_track,
        (progress.status = 'behind')::integer as is_behind,
        (progress.status = 'not_reported')::integer as is_not_reported,
        progress.contributes_to,
        progress.link_status,
        coalesce(nodes.name_ja, local_label.name_ja) as linked_node_name_ja,
        coalesce(tier_label.name_ja, local_label.name_ja) as linked_node_tier_name_ja,
        placed.goal_code,
        goal.name_ja as goal_name_ja,
        impact_kpis.impact_kpi_name_ja,
        progress.measured_on
    from progress
    inner join projects on progress.project_code = projects.project_code
    inner join placed on progress.kpi_progress_key = placed.kpi_progress_key
    left join nodes on progress.contributes_to = nodes.node_code
    left join nodes as goal on placed.goal_code = goal.node_code
    left join impact_kpis on placed.goal_code = impact_kpis.goal_code
    left join labels as unit_label on unit_label.code_label_key = 'unit:' || progress.unit
    left join labels as status_label
        on status_label.code_label_key = 'kpi_status:' || progress.status
    left join labels as tier_label on tier_label.code_label_key = 'tier:' || nodes.tier
    -- a KPI serving no national one (contributes_to LOCAL) is the project's own
    left join labels as local_label
        on local_label.code_label_key = 'tier:local' and nodes.node_code is null

)

select * from final
