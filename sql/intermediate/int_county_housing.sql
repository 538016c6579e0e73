-- grain: one row per county, period and housing-form indicator, for every county that
--   submitted the housing form (表3, township rows)
-- materialized: table
-- the county's numerator and denominator over its known rows, additive across counties, and
-- units_total / units_unknown [issue 12] (units: the form's rows plus its quarantined rows). A
-- blank (NULL) cell makes its row unknown for that ratio and leaves it out of both sums: for
-- the four key categories a row counts only when all eight of its four-key cells are reported.
with reporting as (
    select county_code, period, rows_quarantined
    from intermediate.int_county_submissions
    where form = 'housing'
),

rows_ as (
    select
        county_code,
        period,
        excel_row,
        registered_planned is not null
        and registered_completed is not null
        and subsistence_planned is not null
        and subsistence_completed is not null
        and extreme_poor_planned is not null
        and extreme_poor_completed is not null
        and disabled_planned is not null
        and disabled_completed is not null as key_reported,
        registered_completed + subsistence_completed
        + extreme_poor_completed + disabled_completed as key_completed,
        registered_planned + subsistence_planned
        + extreme_poor_planned + disabled_planned as key_planned,
        other_planned is not null and other_completed is not null as other_reported,
        other_completed,
        other_planned
    from staging.housing
),

county as (
    select
        r.county_code,
        r.period,
        r.rows_quarantined as q,
        count(h.excel_row) as n_rows,
        count(h.excel_row) filter (where not h.key_reported) as key_blank,
        coalesce(sum(h.key_completed) filter (where h.key_reported), 0) as key_completed,
        coalesce(sum(h.key_planned) filter (where h.key_reported), 0) as key_planned,
        count(h.excel_row) filter (where not h.other_reported) as other_blank,
        coalesce(sum(h.other_completed) filter (where h.other_reported), 0) as other_completed,
        coalesce(sum(h.other_planned) filter (where h.other_reported), 0) as other_planned
    from reporting as r
    left join rows_ as h on h.county_code = r.county_code and h.period = r.period
    group by r.county_code, r.period, r.rows_quarantined
)

select
    c.county_code,
    c.period,
    'housing' as form,
    v.indicator_code,
    cast(v.numerator as decimal(38, 2)) as numerator,
    cast(v.denominator as decimal(38, 2)) as denominator,
    cast(c.n_rows + c.q as bigint) as units_total,
    cast(v.blank + c.q as bigint) as units_unknown
from county as c
cross join lateral (
    values
    ('housing_key_completion_rate', c.key_completed, c.key_planned, c.key_blank),
    ('housing_other_completion_rate', c.other_completed, c.other_planned, c.other_blank)
) as v (indicator_code, numerator, denominator, blank)
order by c.county_code, c.period, v.indicator_code
