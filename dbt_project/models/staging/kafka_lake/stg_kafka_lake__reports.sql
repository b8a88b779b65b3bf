with

report_events as (

    select * from {{ ref('base_kafka_lake__report_events') }}

),

renamed as (

    select
        kafka_message_id as report_id,
        document ->> '$.event_id' as event_id,
        document ->> '$.schema_version' as schema_version,
        cast(document ->> '$.submitted_at' as timestamptz) as submitted_at,
        document ->> '$.submitted_by' as submitted_by,
        document ->> '$.consortium_code' as consortium_code,
        project_code,
        document ->> '$.period' as period,
        cast(document ->> '$.version' as integer) as version,
        document ->> '$.progress.status' as status,
        cast(document ->> '$.progress.percent_complete' as double) as percent_complete,
        document ->> '$.progress.summary_ja' as summary_ja,
        kafka_topic,
        kafka_epoch,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        ingested_at
    from report_events

),

with_fiscal_period as (

    select
        *,
        cast(substr(period, 3, 4) as integer) as fiscal_year,
        {{ fiscal_period_end_date('period') }} as period_end_date
    from renamed

)

select * from with_fiscal_period
