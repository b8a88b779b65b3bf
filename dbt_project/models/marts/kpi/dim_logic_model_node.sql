{#- The 地方創生2.0 logic model as one tree: vision → goals (and 国の役割) → the impact KPI, the
    outcome items A–E and the national KPIs of each goal → output items a–r → indicator
    placeholders. Every node has one parent, so a project KPI linked to a node is counted once
    at each ancestor. -#}
with recursive

policies as (

    select * from {{ ref('dim_policy') }}

),

national_kpis as (

    select * from {{ ref('national_kpis') }}

),

indicators as (

    select * from {{ ref('logic_model_indicators') }}

),

nodes as (

    select
        policy_code as node_code,
        parent_code,
        case level when 'bucket' then 'role' else level end as tier,
        name_ja,
        name_en,
        null::varchar as unit,
        null::double as baseline_value,
        null::double as target_value,
        null::integer as target_year,
        null::varchar as target_year_basis,
        'count_only' as rollup_rule,
        source_ref
    from policies
    where level in ('vision', 'goal', 'bucket', 'outcome', 'output')

    union all

    select
        indicator_code as node_code,
        parent_code,
        tier,
        name_ja,
        name_en,
        null::varchar as unit,
        null::double as baseline_value,
        null::double as target_value,
        null::integer as target_year,
        null::varchar as target_year_basis,
        'count_only' as rollup_rule,
        source_ref
    from indicators

    union all

    -- a national KPI hangs under the KPI it restates (same_as), else under its goal: the goal
    -- node itself for KB-/KS-, the crosswalked goal of the measure for KP-
    select
        national_kpis.national_kpi_code as node_code,
        coalesce(national_kpis.same_as, policies.goal_code) as parent_code,
        national_kpis.tier,
        national_kpis.name_ja,
        national_kpis.name_en,
        national_kpis.unit,
        national_kpis.baseline_value,
        national_kpis.target_value,
        national_kpis.target_year,
        national_kpis.target_year_basis,
        national_kpis.rollup_rule,
        national_kpis.source_ref
    from national_kpis
    left join policies on national_kpis.policy_code = policies.policy_code

),

-- each node with its depth and the goal (or 国の役割) above it
walked as (

    select
        node_code,
        parent_code,
        0 as node_depth,
        case when tier in ('goal', 'role') then node_code end as goal_code
    from nodes
    where parent_code is null

    union all

    select
        nodes.node_code,
        nodes.parent_code,
        walked.node_depth + 1 as node_depth,
        coalesce(
            walked.goal_code, case when nodes.tier in ('goal', 'role') then nodes.node_code end
        ) as goal_code
    from nodes
    inner join walked on nodes.parent_code = walked.node_code

),

final as (

    select
        nodes.node_code,
        nodes.parent_code,
        nodes.tier,
        nodes.name_ja,
        nodes.name_en,
        walked.goal_code,
        walked.node_depth,
        nodes.unit,
        nodes.baseline_value,
        nodes.target_value,
        nodes.target_year,
        nodes.target_year_basis,
        nodes.rollup_rule,
        nodes.source_ref
    from nodes
    left join walked on nodes.node_code = walked.node_code

)

select * from final
