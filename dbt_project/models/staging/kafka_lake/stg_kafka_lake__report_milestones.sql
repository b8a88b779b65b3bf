with

unnested as (

    {{ unnest_json_array(
        ref('base_kafka_lake__report_events'),
        array_path='$.progress.milestones[*]',
        element='milestone',
        number='milestone_number',
        carry=['project_code', 'period']
    ) }}

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
