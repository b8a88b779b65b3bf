with

projects as (

    select * from {{ ref('int_projects_latest') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

submissions as (

    select * from {{ ref('int_report_submissions_summarised') }}

),

quarters as (

    select * from fiscal_periods
    where period_type = 'quarter'

),

-- every quarter of every project's start_fy..end_fy that is already due
expected as (

    select
        projects.project_code,
        projects.consortium_code,
        quarters.period
    from projects
    inner join quarters
        on quarters.fiscal_year between projects.start_fy and projects.end_fy
    where quarters.due_date <= {{ as_of_date() }}

),

-- plus every quarterly report that arrived, due or not, inside the project's years or not
reported as (

    select
        submissions.project_code,
        submissions.consortium_code,
        submissions.period
    from submissions
    inner join quarters on submissions.period = quarters.period

),

cycle as (

    select * from expected
    union
    select * from reported

),

joined as (

    select
        cycle.project_code || '-' || cycle.period as project_period_key,
        cycle.project_code,
        coalesce(submissions.consortium_code, cycle.consortium_code) as consortium_code,
        cycle.period,
        quarters.fiscal_year,
        quarters.quarter,
        quarters.end_date as period_end_date,
        quarters.due_date,
        submissions.first_submitted_at,
        submissions.latest_submitted_at,
        coalesce(submissions.versions_count, 0) as versions_count,
        submissions.latest_version,
        {{ date_in_japan('submissions.first_submitted_at') }} as first_submitted_on,
        submissions.latest_event_id
    from cycle
    inner join quarters on cycle.period = quarters.period
    left join submissions
        on
            cycle.project_code = submissions.project_code
            and cycle.period = submissions.period

),

-- on time = first version submitted (Japan date) by the due date
final as (

    select
        * exclude (first_submitted_on),
        case
            when first_submitted_at is null then 'missing'
            when first_submitted_on <= due_date then 'on_time'
            else 'late'
        end as submission_status,
        case
            when first_submitted_at is null
                then greatest(date_diff('day', due_date, {{ as_of_date() }}), 0)
            else greatest(date_diff('day', due_date, first_submitted_on), 0)
        end as days_late
    from joined

)

select * from final
