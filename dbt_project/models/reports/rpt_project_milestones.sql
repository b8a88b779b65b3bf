{#- Milestones of the latest report of each project × period, for the delayed / at-risk list. -#}
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

milestones as (

    select * from {{ ref('fct_report_milestone') }}
    {{ changed_projects_only() }}

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
        milestones.report_milestone_id,
        milestones.project_code,
        projects.title_ja as project_title_ja,
        milestones.consortium_code,
        projects.theme,
        projects.theme_name_ja,
        milestones.period,
        milestones.fiscal_year,
        progress.status as project_status,
        project_status_label.name_ja as project_status_name_ja,
        progress.status in ('delayed', 'at_risk') as needs_attention,
        progress.period_end_date = max(progress.period_end_date) over (
            partition by milestones.project_code
        ) as is_latest_period,
        milestones.milestone_code,
        milestones.title_ja as milestone_title_ja,
        milestones.planned_date,
        milestones.actual_date,
        milestones.status as milestone_status,
        milestone_status_label.name_ja as milestone_status_name_ja
    from milestones
    inner join progress on milestones.project_period_key = progress.project_period_key
    left join projects on milestones.project_code = projects.project_code
    left join labels as project_status_label
        on
            project_status_label.code_type = 'status'
            and progress.status = project_status_label.code
    left join labels as milestone_status_label
        on
            milestone_status_label.code_type = 'status'
            and milestones.status = milestone_status_label.code

)

select * from labelled
