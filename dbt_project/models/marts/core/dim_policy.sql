with recursive

policy_nodes as (

    select * from {{ ref('policy_nodes') }}

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

roots as (

    select
        ancestry.policy_code,
        max(ancestors.policy_code) filter (where ancestors.level = 'goal') as goal_code,
        max(ancestors.policy_code) filter (where ancestors.level = 'pillar') as pillar_code
    from ancestry
    inner join policy_nodes as ancestors on ancestry.ancestor_code = ancestors.policy_code
    group by ancestry.policy_code

),

final as (

    select
        policy_nodes.policy_code,
        policy_nodes.parent_code,
        policy_nodes.level,
        policy_nodes.name_ja,
        policy_nodes.name_en,
        roots.goal_code,
        roots.pillar_code,
        policy_nodes.source_ref
    from policy_nodes
    left join roots on policy_nodes.policy_code = roots.policy_code

)

select * from final
