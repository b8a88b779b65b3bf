{{ config(severity='error') }}
-- Every landed funding line is well formed, checked in one pass: each test on a staging view
-- parses the lake's JSON again, and at national scale the ten column tests of this view took
-- longer than the models built from it. One row per line and broken rule.
with

lines as (

    select
        *,
        count(*) over (partition by funding_line_id) as copies
    from {{ ref('stg_kafka_lake__report_funding_lines') }}

),

reports as (

    select report_id from {{ ref('stg_kafka_lake__reports') }}

),

prefectures as (

    select pref_code from {{ ref('prefectures') }}

),

checked as (

    select
        lines.funding_line_id,
        lines.report_id,
        case
            when lines.funding_line_id is null then 'funding_line_id is null'
            when lines.copies > 1 then 'funding_line_id is not unique'
            when lines.report_id is null then 'report_id is null'
            when reports.report_id is null then 'report_id is not a landed report'
            when lines.source_type is null then 'source_type is null'
            when lines.source_type not in (
                'national_grant', 'prefecture', 'municipality', 'private', 'corporate_furusato',
                'loan', 'other'
            ) then 'source_type is not a contract value'
            when lines.stage is null then 'stage is null'
            when lines.stage not in ('planned', 'committed', 'executed')
                then 'stage is not a contract value'
            when lines.amount_jpy is null then 'amount_jpy is null'
            when lines.amount_jpy < 0 then 'amount_jpy is negative'
            when lines.pref_code is not null and prefectures.pref_code is null
                then 'pref_code is not a prefecture'
        end as violation
    from lines
    left join reports on lines.report_id = reports.report_id
    left join prefectures on lines.pref_code = prefectures.pref_code

)

select * from checked
where violation is not null
