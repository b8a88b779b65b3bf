{#- Milestones of the latest report of each project × period, for the delayed / at-risk list. -#}
with

labels as (

    select * from {{ ref('rpt_code_labels') }}

),

milestones as (

    select * from {{ ref('stg_kafka_lake__report_milestones') }}

),

reports as (

    select * from {{ ref('int_reports_deduplicated_to_latest') }}

),

projects as (

    select * from {{ ref('int_projects_latest') }}

),

labelled as (

    select
        milestones.report_milestone_id,
        reports.project_code,
        projects.title_ja as project_title_ja,
        reports.consortium_code,
        projects.theme,
        theme_label.name_ja as theme_name_ja,
        reports.period,
        reports.fiscal_year,
        reports.status as project_status,
        reports_status_label.name_ja as project_status_name_ja,
        reports.status in ('delayed', 'at_risk') as needs_attention,
        reports.period_end_date = max(reports.period_end_date) over (
            partition by reports.project_code
        ) as is_latest_period,
        milestones.milestone_code,
        milestones.title_ja as milestone_title_ja,
        milestones.planned_date,
        milestones.actual_date,
        milestones.status as milestone_status,
        milestones_status_label.name_ja as milestone_status_name_ja
    from milestones
    inner join reports on milestones.report_id = reports.report_id
    left join projects on reports.project_code = projects.project_code
    left join labels as theme_label
        on
            theme_label.code_type = 'theme'
            and projects.theme = theme_label.code
    left join labels as reports_status_label
        on
            reports_status_label.code_type = 'status'
            and reports.status = reports_status_label.code
    left join labels as milestones_status_label
        on
            milestones_status_label.code_type = 'status'
            and milestones.status = milestones_status_label.code

)

select * from labelled
