-- one row per county, period and water-form indicator, for every county that
-- submitted the water form (表5, one row per village with any unsafe household): the
-- county's numerator and denominator, additive across counties (water_zero_counties is
-- 1/1 for a county at zero, 0/1 otherwise: every reporting county is in the denominator).
-- A form sent with no village rows means no unsafe household (sums 0, county at zero)
-- unless rows of it were quarantined (sums NULL, not at zero). A blank end-of-period
-- cell adds nothing to the sum and keeps the county from being confirmed at zero.
with reporting as (
    select county_code, period, is_complete
    from intermediate.int_county_submissions
    where form = 'water'
),

county as (
    select
        r.county_code,
        r.period,
        r.is_complete,
        count(w.excel_row) as n_rows,
        sum(w.unsafe_households_end) as unsafe_households_end,
        sum(w.resolved_households) as resolved_households,
        count(w.excel_row) filter (
            where w.unsafe_households_end is null or w.unsafe_households_end > 0
        ) as rows_not_zero
    from reporting as r
    left join staging.water as w on w.county_code = r.county_code and w.period = r.period
    group by r.county_code, r.period, r.is_complete
),

facts as (
    select
        c.county_code,
        c.period,
        v.indicator_code,
        v.numerator,
        v.denominator
    from county as c
    cross join lateral (
        values
        (
            'water_unsafe_households',
            if(c.n_rows = 0, if(c.is_complete, 0, null), c.unsafe_households_end),
            null
        ),
        (
            'water_resolved_households',
            if(c.n_rows = 0, if(c.is_complete, 0, null), c.resolved_households),
            null
        ),
        ('water_zero_counties', if(c.is_complete and c.rows_not_zero = 0, 1, 0), 1)
    ) as v (indicator_code, numerator, denominator)
)

select
    county_code,
    period,
    'water' as form,
    indicator_code,
    cast(numerator as decimal(38, 2)) as numerator,
    cast(denominator as decimal(38, 2)) as denominator
from facts
order by county_code, period, indicator_code
