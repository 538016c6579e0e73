-- one row per county, period and employment-form indicator, for every county that
-- submitted the employment form (表7, township rows): the county's sum of each count
-- (denominator NULL). A blank (NULL) cell adds nothing; a form sent with no rows gives 0,
-- or NULL when rows of it were quarantined.
with reporting as (
    select county_code, period, is_complete
    from intermediate.int_county_submissions
    where form = 'employment'
),

county as (
    select
        r.county_code,
        r.period,
        r.is_complete,
        count(e.excel_row) as n_rows,
        sum(e.migrant_employed) as migrant_employed,
        sum(e.workshops) as workshops,
        sum(e.workshop_employed) as workshop_employed,
        sum(e.public_welfare_jobs) as public_welfare_jobs,
        sum(e.ecological_rangers) as ecological_rangers
    from reporting as r
    left join staging.employment as e on e.county_code = r.county_code and e.period = r.period
    group by r.county_code, r.period, r.is_complete
),

facts as (
    select
        c.county_code,
        c.period,
        v.indicator_code,
        if(c.n_rows = 0, if(c.is_complete, 0, null), v.numerator) as numerator,
        null as denominator
    from county as c
    cross join lateral (
        values
        ('employment_migrant_employed', c.migrant_employed),
        ('employment_workshops', c.workshops),
        ('employment_workshop_employed', c.workshop_employed),
        ('employment_public_welfare_jobs', c.public_welfare_jobs),
        ('employment_ecological_rangers', c.ecological_rangers)
    ) as v (indicator_code, numerator)
)

select
    county_code,
    period,
    'employment' as form,
    indicator_code,
    cast(numerator as decimal(38, 2)) as numerator,
    cast(denominator as decimal(38, 2)) as denominator
from facts
order by county_code, period, indicator_code
