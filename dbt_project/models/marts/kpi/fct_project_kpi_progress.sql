{#- Each project KPI against its baseline and target at the end of every fiscal year from the
    project's start to the as-of date, with a status adjusted for the pace to the target year.

    actual_value: what the KPI stands at. A sum-KPI's reported values are flows: its level is the
    baseline plus every flow reported so far. A latest-KPI's level is its latest reported value,
    max the largest and mean the mean of those reported; a unit ending in _CUM is a cumulative
    level, read as latest whatever its aggregation says. Levels are never added across periods.
    progress = (actual_value - baseline) / (target - baseline), whatever the direction (a decrease
    target has target < baseline). expected_progress is the share of the time from the start of
    start_fy to the end of target_fy that has passed at the end of the last period reported. -#}
with

kpis as (

    select * from {{ ref('dim_kpi') }}

),

projects as (

    select * from {{ ref('dim_project') }}

),

period_values as (

    select * from {{ ref('int_project_kpi_values_by_period') }}

),

as_of as (

    select
        {{ as_of_date() }} as as_of_date,
        year({{ as_of_date() }})
        - case when month({{ as_of_date() }}) < 4 then 1 else 0 end as as_of_fy

),

definitions as (

    select
        kpis.kpi_key,
        kpis.project_code,
        kpis.consortium_code,
        kpis.kpi_code,
        kpis.name_ja as kpi_name_ja,
        kpis.unit,
        case when upper(kpis.unit) like '%\_CUM' escape '\' then 'latest' else kpis.aggregation end
            as level_rule,
        kpis.direction,
        kpis.baseline,
        kpis.target,
        kpis.target_fy,
        kpis.contributes_to,
        kpis.link_status,
        projects.start_fy,
        make_date(projects.start_fy, 4, 1) as starts_on,
        make_date(kpis.target_fy + 1, 3, 31) as target_ends_on,
        least(as_of.as_of_fy, greatest(projects.end_fy, kpis.target_fy)) as last_fy
    from kpis
    inner join projects on kpis.project_code = projects.project_code
    cross join as_of

),

years as (

    select
        *,
        unnest(generate_series(start_fy, last_fy))::integer as fiscal_year
    from definitions
    where start_fy <= last_fy

),

-- everything reported up to the end of each fiscal year
to_date as (

    select
        years.kpi_key,
        years.fiscal_year,
        count(period_values.period) as periods_reported,
        max(period_values.period_end_date) as measured_on,
        sum(period_values.value) as flows_sum,
        arg_max(period_values.value, period_values.period_end_date) as latest_value,
        max(period_values.value) as max_value,
        avg(period_values.value) as mean_value
    from years
    left join period_values
        on
            years.kpi_key = period_values.kpi_key
            and years.fiscal_year >= period_values.fiscal_year
    group by years.kpi_key, years.fiscal_year

),

levels as (

    select
        years.*,
        to_date.periods_reported,
        to_date.measured_on,
        case
            when to_date.periods_reported = 0 then null
            when years.level_rule = 'sum' then years.baseline + to_date.flows_sum
            when years.level_rule = 'max' then to_date.max_value
            when years.level_rule = 'mean' then to_date.mean_value
            else to_date.latest_value
        end as actual_value
    from years
    inner join
        to_date
        on years.kpi_key = to_date.kpi_key and years.fiscal_year = to_date.fiscal_year

),

paced as (

    select
        *,
        case
            when target != baseline then (actual_value - baseline) / (target - baseline)
        end as progress,
        case
            when measured_on is not null
                then greatest(0.0, least(
                    1.0,
                    date_diff('day', starts_on, measured_on)::double
                    / nullif(date_diff('day', starts_on, target_ends_on), 0)
                ))
        end as expected_progress
    from levels

),

final as (

    select
        kpi_key || ':FY' || fiscal_year as kpi_progress_key,
        kpi_key,
        project_code,
        consortium_code,
        kpi_code,
        kpi_name_ja,
        fiscal_year,
        fiscal_year = max(fiscal_year) over (partition by kpi_key) as is_latest,
        unit,
        level_rule,
        direction,
        baseline,
        target,
        target_fy,
        contributes_to,
        link_status,
        periods_reported,
        measured_on,
        actual_value,
        -- what the project added in the KPI's own unit: only a sum-KPI's flows add up
        case when level_rule = 'sum' then actual_value - baseline end as contribution,
        progress,
        expected_progress,
        case
            when actual_value is null then 'not_reported'
            when progress is null then 'no_target'
            when progress >= 1 then 'achieved'
            when progress >= 0.9 * expected_progress then 'on_track'
            else 'behind'
        end as status
    from paced

)

select * from final
