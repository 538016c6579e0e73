-- grain: one row per county, period and education-form indicator, for every county that
--   submitted the education form (表6, township rows)
-- materialized: table
-- the county's numerator and denominator over its known rows, additive across counties
-- (denominator NULL for a plain count), and units_total / units_unknown [issue 12] (units: the
-- form's rows plus its quarantined rows). A blank (NULL) cell makes its row unknown: a sum
-- adds the reported cells only; a ratio leaves the row out of both its sums.
with reporting as (
    select county_code, period, rows_quarantined
    from intermediate.int_county_submissions
    where form = 'education'
),

county as (
    select
        r.county_code,
        r.period,
        r.rows_quarantined as q,
        count(e.excel_row) as n_rows,
        coalesce(sum(e.dropouts_remaining), 0) as dropouts_remaining,
        count(e.excel_row) filter (where e.dropouts_remaining is null) as remaining_blank,
        count(e.excel_row) filter (
            where e.dropouts_returned is null or e.dropouts_identified is null
        ) as return_blank,
        coalesce(sum(e.dropouts_returned) filter (
            where e.dropouts_returned is not null and e.dropouts_identified is not null
        ), 0) as returned,
        coalesce(sum(e.dropouts_identified) filter (
            where e.dropouts_returned is not null and e.dropouts_identified is not null
        ), 0) as identified
    from reporting as r
    left join staging.education as e on e.county_code = r.county_code and e.period = r.period
    group by r.county_code, r.period, r.rows_quarantined
)

select
    c.county_code,
    c.period,
    'education' as form,
    v.indicator_code,
    cast(v.numerator as decimal(38, 2)) as numerator,
    cast(v.denominator as decimal(38, 2)) as denominator,
    cast(c.n_rows + c.q as bigint) as units_total,
    cast(v.blank + c.q as bigint) as units_unknown
from county as c
cross join lateral (
    values
    ('education_dropouts_remaining', c.dropouts_remaining, null, c.remaining_blank),
    ('education_return_rate', c.returned, c.identified, c.return_blank)
) as v (indicator_code, numerator, denominator, blank)
order by c.county_code, c.period, v.indicator_code
