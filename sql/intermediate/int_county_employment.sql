-- grain: one row per county, period and employment-form indicator, for every county that
--   submitted the employment form (表7, township rows)
-- materialized: table
-- the county's sum of each count over its reported cells (denominator NULL), and units_total /
-- units_unknown [issue 12] (units: the form's rows plus its quarantined rows; a row with the
-- cell blank is unknown).
with reporting as (
    select county_code, period, rows_quarantined
    from intermediate.int_county_submissions
    where form = 'employment'
),

county as (
    select
        r.county_code,
        r.period,
        r.rows_quarantined as q,
        count(e.excel_row) as n_rows,
        coalesce(sum(e.migrant_employed), 0) as migrant_employed,
        count(e.excel_row) filter (where e.migrant_employed is null) as migrant_blank,
        coalesce(sum(e.workshops), 0) as workshops,
        count(e.excel_row) filter (where e.workshops is null) as workshops_blank,
        coalesce(sum(e.workshop_employed), 0) as workshop_employed,
        count(e.excel_row) filter (where e.workshop_employed is null) as workshop_blank,
        coalesce(sum(e.public_welfare_jobs), 0) as public_welfare_jobs,
        count(e.excel_row) filter (where e.public_welfare_jobs is null) as welfare_blank,
        coalesce(sum(e.ecological_rangers), 0) as ecological_rangers,
        count(e.excel_row) filter (where e.ecological_rangers is null) as rangers_blank
    from reporting as r
    left join staging.employment as e on e.county_code = r.county_code and e.period = r.period
    group by r.county_code, r.period, r.rows_quarantined
)

select
    c.county_code,
    c.period,
    'employment' as form,
    v.indicator_code,
    cast(v.numerator as decimal(38, 2)) as numerator,
    cast(null as decimal(38, 2)) as denominator,
    cast(c.n_rows + c.q as bigint) as units_total,
    cast(v.blank + c.q as bigint) as units_unknown
from county as c
cross join lateral (
    values
    ('employment_migrant_employed', c.migrant_employed, c.migrant_blank),
    ('employment_workshops', c.workshops, c.workshops_blank),
    ('employment_workshop_employed', c.workshop_employed, c.workshop_blank),
    ('employment_public_welfare_jobs', c.public_welfare_jobs, c.welfare_blank),
    ('employment_ecological_rangers', c.ecological_rangers, c.rangers_blank)
) as v (indicator_code, numerator, blank)
order by c.county_code, c.period, v.indicator_code
