{#- Largest-remainder split of a whole amount over weighted rows: each row gets
    floor(amount * weight / total_weight); the units left after flooring go one each to the rows
    with the largest remainders, ties by tie_break. The parts add back to the amount exactly.
    Selects every column of relation plus allocated_as (hugeint). -#}
{% macro largest_remainder(
    relation, amount, weight, total_weight, partition_by, tie_break,
    allocated_as='allocated_amount'
) -%}
    select
        * exclude (lr_base, lr_remainder, lr_leftover, lr_rank),
        lr_base + case when lr_rank <= lr_leftover then 1 else 0 end as {{ allocated_as }}
    from (
        select
            *,
            cast({{ amount }} as hugeint)
            - sum(lr_base) over (partition by {{ partition_by }}) as lr_leftover,
            row_number() over (
                partition by {{ partition_by }}
                order by lr_remainder desc, {{ tie_break }}
            ) as lr_rank
        from (
            select
                *,
                (cast({{ amount }} as hugeint) * {{ weight }}) // {{ total_weight }} as lr_base,
                (cast({{ amount }} as hugeint) * {{ weight }}) % {{ total_weight }} as lr_remainder
            from {{ relation }}
        ) as floored
    ) as ranked
{%- endmacro %}
