{#- Project × period progress with the labels the プロジェクト進捗 dashboard groups and filters by. -#}
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

labels as (

    select * from {{ ref('rpt_code_labels') }}

),

progress as (

    select * from {{ ref('fct_project_progress') }}
    {{ changed_projects_only() }}

),

projects as (

    select * from {{ ref('dim_project') }}

),

labelled as (

    select
        progress.project_period_key,
        progress.project_code,
        projects.title_ja as project_title_ja,
        progress.consortium_code,
        projects.consortium_name_ja,
        projects.theme,
        projects.theme_name_ja,
        projects.goal_code,
        projects.goal_name_ja,
        progress.period,
        progress.fiscal_year,
        progress.period_end_date,
        progress.status,
        progress_status_label.name_ja as status_name_ja,
        progress.status in ('delayed', 'at_risk') as needs_attention,
        progress.period_end_date = max(progress.period_end_date) over (
            partition by progress.project_code
        ) as is_latest_period,
        progress.percent_complete,
        progress.milestones_total,
        progress.milestones_done,
        progress.milestones_delayed,
        progress.submitted_at
    from progress
    left join projects on progress.project_code = projects.project_code
    left join labels as progress_status_label
        on
            progress_status_label.code_type = 'status'
            and progress.status = progress_status_label.code

)

select * from labelled
