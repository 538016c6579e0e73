-- one row per county, period and education-form indicator, for every county that
-- submitted the education form (表6, township rows): the county's numerator and
-- denominator, additive across counties (denominator NULL for a plain count).
-- A blank (NULL) cell: a sum adds the reported cells only; a ratio leaves the row out
-- of both its sums. A form sent with no rows gives 0, or NULL when rows were quarantined.
with reporting as (
    select county_code, period, is_complete
    from intermediate.int_county_submissions
    where form = 'education'
),

county as (
    select
        r.county_code,
        r.period,
        r.is_complete,
        count(e.excel_row) as n_rows,
        sum(e.dropouts_remaining) as dropouts_remaining,
        coalesce(sum(e.dropouts_returned) filter (
            where e.dropouts_returned is not null and e.dropouts_identified is not null
        ), 0) as returned,
        coalesce(sum(e.dropouts_identified) filter (
            where e.dropouts_returned is not null and e.dropouts_identified is not null
        ), 0) as identified
    from reporting as r
    left join staging.education as e on e.county_code = r.county_code and e.period = r.period
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
            'education_dropouts_remaining',
            if(c.n_rows = 0, if(c.is_complete, 0, null), c.dropouts_remaining),
            null
        ),
        ('education_return_rate', c.returned, c.identified)
    ) as v (indicator_code, numerator, denominator)
)

select
    county_code,
    period,
    'education' as form,
    indicator_code,
    cast(numerator as decimal(38, 2)) as numerator,
    cast(denominator as decimal(38, 2)) as denominator
from facts
order by county_code, period, indicator_code
