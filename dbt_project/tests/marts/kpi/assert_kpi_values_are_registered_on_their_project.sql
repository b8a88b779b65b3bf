{{ config(severity='warn') }}
-- The lander validates the schema only, so a report can carry a kpi_code its project never
-- registered; list those values so the secretariat can be asked (warn: the rest still builds).
select
    project_code,
    period,
    kpi_code,
    pref_code,
    value,
    report_event_id
from {{ ref('int_kpi_values_latest') }}
where not is_registered
