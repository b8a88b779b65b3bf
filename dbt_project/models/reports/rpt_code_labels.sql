{#- Japanese labels of the contract v1 codes shown on the dashboards (theme, status, stage,
    source type), all from seeds; one place, so every rpt_* model labels codes the same way. -#}
with

themes as (

    select * from {{ ref('themes') }}

),

funding_source_types as (

    select * from {{ ref('funding_source_types') }}

),

code_labels as (

    select * from {{ ref('code_labels') }}

),

labels as (

    select
        'theme' as code_type,
        theme as code,
        name_ja,
        sort_order
    from themes

    union all

    select
        'source_type' as code_type,
        source_type as code,
        name_ja,
        sort_order
    from funding_source_types

    union all

    select
        code_type,
        code,
        name_ja,
        sort_order
    from code_labels

),

final as (

    select
        code_type || ':' || code as code_label_key,
        code_type,
        code,
        name_ja,
        sort_order
    from labels

)

select * from final
