-- Every latest funding line must reappear in the allocation, and its prefecture amounts
-- must add back to the reported amount to the yen.
with

funding_lines as (

    select * from {{ ref('int_funding_lines_latest') }}

),

allocated_lines as (

    select * from {{ ref('int_funding_lines_allocated_to_prefectures') }}

),

allocated_totals as (

    select
        funding_line_id,
        sum(amount_jpy) as allocated_total_jpy
    from allocated_lines
    group by funding_line_id

),

mismatches as (

    select
        funding_lines.funding_line_id,
        funding_lines.amount_jpy as reported_amount_jpy,
        allocated_totals.allocated_total_jpy
    from funding_lines
    left join allocated_totals on funding_lines.funding_line_id = allocated_totals.funding_line_id
    where allocated_totals.allocated_total_jpy is distinct from funding_lines.amount_jpy

)

select * from mismatches
