with

report_events as (

    select * from {{ ref('base_kafka_lake__report_events') }}

),

reports as (

    select
        kafka_message_id,
        document ->> '$.project_code' as project_code,
        document ->> '$.period' as period,
        json_extract(document, '$.progress.milestones[*]') as milestones
    from report_events

),

unnested as (

    select
        kafka_message_id,
        project_code,
        period,
        unnest(milestones) as milestone,
        generate_subscripts(milestones, 1) as milestone_number
    from reports

),

renamed as (

    select
        md5(concat_ws('|', kafka_message_id, milestone_number)) as report_milestone_id,
        kafka_message_id as report_id,
        project_code,
        period,
        milestone_number,
        milestone ->> '$.milestone_code' as milestone_code,
        milestone ->> '$.title_ja' as title_ja,
        cast(milestone ->> '$.planned_date' as date) as planned_date,
        milestone ->> '$.status' as status,
        cast(milestone ->> '$.actual_date' as date) as actual_date
    from unnested

)

select * from renamed
