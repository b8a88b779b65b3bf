with recursive

policy_nodes as (

    select * from {{ ref('policy_nodes') }}

),

crosswalk as (

    select * from {{ ref('policy_goal_crosswalk') }}

),

-- every node with each of its ancestors (itself included), walking parent_code upwards
ancestry as (

    select
        policy_code,
        policy_code as ancestor_code
    from policy_nodes

    union all

    select
        ancestry.policy_code,
        policy_nodes.parent_code as ancestor_code
    from ancestry
    inner join policy_nodes on ancestry.ancestor_code = policy_nodes.policy_code
    where policy_nodes.parent_code is not null

),

-- a node under a goal has that goal; a measure under a pillar has the goal 004 files its
-- measure group (or the whole pillar) under, from the crosswalk: the nearest crosswalked ancestor
roots as (

    select
        ancestry.policy_code,
        max(ancestors.policy_code) filter (where ancestors.level = 'goal') as ancestor_goal_code,
        arg_min(crosswalk.goal_code, length(ancestry.ancestor_code) * -1)
        filter (where crosswalk.goal_code is not null) as crosswalk_goal_code,
        max(ancestors.policy_code) filter (where ancestors.level = 'pillar') as pillar_code
    from ancestry
    inner join policy_nodes as ancestors on ancestry.ancestor_code = ancestors.policy_code
    left join crosswalk on ancestry.ancestor_code = crosswalk.policy_code
    group by ancestry.policy_code

),

final as (

    select
        policy_nodes.policy_code,
        policy_nodes.parent_code,
        policy_nodes.level,
        policy_nodes.name_ja,
        policy_nodes.name_en,
        coalesce(roots.ancestor_goal_code, roots.crosswalk_goal_code) as goal_code,
        roots.ancestor_goal_code is null
        and roots.crosswalk_goal_code is not null as is_goal_from_crosswalk,
        roots.pillar_code,
        policy_nodes.source_ref
    from policy_nodes
    left join roots on policy_nodes.policy_code = roots.policy_code

)

select * from final
