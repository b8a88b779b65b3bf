{#- Japanese fiscal years run April-March: FY2026 = 2026-04-01 .. 2027-03-31. -#}
{%- set first_fy = 2020 -%}
{%- set last_fy = 2040 -%}

with

fiscal_years as (

    select
        cast(range as integer) as fiscal_year,
        make_date(cast(range as integer), 4, 1) as fiscal_year_start
    from range({{ first_fy }}, {{ last_fy + 1 }})

),

quarter_numbers as (

    select cast(range as integer) as quarter_number
    from range(1, 5)

),

half_numbers as (

    select cast(range as integer) as half_number
    from range(1, 3)

),

quarters as (

    select
        'FY' || fiscal_years.fiscal_year || 'Q' || quarter_numbers.quarter_number as period,
        fiscal_years.fiscal_year,
        'quarter' as period_type,
        quarter_numbers.quarter_number as quarter,
        cast(null as integer) as half,
        cast(
            fiscal_years.fiscal_year_start + to_months(3 * (quarter_numbers.quarter_number - 1))
            as date
        ) as start_date,
        cast(
            fiscal_years.fiscal_year_start + to_months(3 * quarter_numbers.quarter_number)
            - to_days(1) as date
        ) as end_date,
        fiscal_years.fiscal_year || '年度 第' || quarter_numbers.quarter_number || '四半期'
            as label_ja,
        'FY' || fiscal_years.fiscal_year || ' Q' || quarter_numbers.quarter_number as label_en
    from fiscal_years
    cross join quarter_numbers

),

halves as (

    select
        'FY' || fiscal_years.fiscal_year || 'H' || half_numbers.half_number as period,
        fiscal_years.fiscal_year,
        'half' as period_type,
        cast(null as integer) as quarter,
        half_numbers.half_number as half,
        cast(
            fiscal_years.fiscal_year_start + to_months(6 * (half_numbers.half_number - 1)) as date
        ) as start_date,
        cast(
            fiscal_years.fiscal_year_start + to_months(6 * half_numbers.half_number)
            - to_days(1) as date
        ) as end_date,
        fiscal_years.fiscal_year || '年度 '
        || case half_numbers.half_number when 1 then '上期' else '下期' end as label_ja,
        'FY' || fiscal_years.fiscal_year || ' H' || half_numbers.half_number as label_en
    from fiscal_years
    cross join half_numbers

),

years as (

    select
        'FY' || fiscal_year as period,
        fiscal_year,
        'year' as period_type,
        cast(null as integer) as quarter,
        cast(null as integer) as half,
        fiscal_year_start as start_date,
        make_date(fiscal_year + 1, 3, 31) as end_date,
        fiscal_year || '年度' as label_ja,
        'FY' || fiscal_year as label_en
    from fiscal_years

),

unioned as (

    select * from quarters
    union all
    select * from halves
    union all
    select * from years

),

final as (

    select
        *,
        {{ report_due_date('end_date') }} as due_date
    from unioned

)

select * from final
