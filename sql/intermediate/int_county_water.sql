-- grain: one row per county, period and water-form indicator, for every county that submitted
--   the water form (表5, one row per village with any unsafe household)
-- materialized: table
-- the county's numerator and denominator over its known units, additive across counties, and
-- units_total / units_unknown [issue 12]. Units: the form's rows plus its quarantined rows for
-- the sums; the county itself for water_zero_counties (1/1 at zero, 0/1 not at zero). A form
-- sent with no village rows means no unsafe household (sums 0, county at zero) unless rows of
-- it were quarantined. A county is known not to be at zero when a reported end-of-period cell
-- is above 0; it is at zero when every cell is reported and 0 and no row is quarantined;
-- otherwise (a blank cell or a quarantined row, none above 0) whether it is at zero is
-- unknown: numerator and denominator NULL, so it counts in neither
-- (intermediate.int_county_indicators).
with reporting as (
    select county_code, period, is_complete, rows_quarantined
    from intermediate.int_county_submissions
    where form = 'water'
),

county as (
    select
        r.county_code,
        r.period,
        r.is_complete,
        r.rows_quarantined as q,
        count(w.excel_row) as n_rows,
        coalesce(sum(w.unsafe_households_end), 0) as unsafe_households_end,
        count(w.excel_row) filter (where w.unsafe_households_end is null) as end_blank,
        coalesce(sum(w.resolved_households), 0) as resolved_households,
        count(w.excel_row) filter (where w.resolved_households is null) as resolved_blank,
        count(w.excel_row) filter (where w.unsafe_households_end > 0) as rows_above_zero
    from reporting as r
    left join staging.water as w on w.county_code = r.county_code and w.period = r.period
    group by r.county_code, r.period, r.is_complete, r.rows_quarantined
),

zero as (
    select
        *,
        case
            when rows_above_zero > 0 then false
            when is_complete and end_blank = 0 then true
        end as at_zero
    from county
)

select
    c.county_code,
    c.period,
    'water' as form,
    v.indicator_code,
    cast(v.numerator as decimal(38, 2)) as numerator,
    cast(v.denominator as decimal(38, 2)) as denominator,
    cast(v.units_total as bigint) as units_total,
    cast(v.units_unknown as bigint) as units_unknown
from zero as c
cross join lateral (
    values
    ('water_unsafe_households', c.unsafe_households_end, null, c.n_rows + c.q, c.end_blank + c.q),
    (
        'water_resolved_households',
        c.resolved_households,
        null,
        c.n_rows + c.q,
        c.resolved_blank + c.q
    ),
    (
        'water_zero_counties',
        if(c.at_zero, 1, 0),
        if(c.at_zero is null, 0, 1),
        1,
        if(c.at_zero is null, 1, 0)
    )
) as v (indicator_code, numerator, denominator, units_total, units_unknown)
order by c.county_code, c.period, v.indicator_code
