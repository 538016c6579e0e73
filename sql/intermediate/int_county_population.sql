-- grain: one row per county, period and population-form indicator, for every county that
--   submitted the population form (表1, village rows)
-- materialized: table
-- the county's numerator and denominator over its known units, additive across counties
-- (denominator NULL for a plain count), and units_total / units_unknown [issue 12]. The units
-- are villages: the form's rows plus its quarantined rows (whose values are unknown); for
-- poverty_villages_remaining the poverty villages (是否贫困村 = 是) plus the quarantined rows. A
-- village is unknown for an indicator when a cell it needs is blank: a sum adds the known
-- cells; a ratio leaves the village out of both its sums; a village whose incidence is blank
-- is neither counted above 3% nor below it. intermediate.int_county_indicators turns the
-- numerator and denominator NULL when every unit is unknown.
with reporting as (
    select county_code, period, rows_quarantined
    from intermediate.int_county_submissions
    where form = 'population'
),

rows_ as (
    select
        *,
        remaining_persons is not null and total_population is not null as incidence_known,
        -- incidence above 3%, in whole numbers: remaining / total > 3 / 100 (total 0: no)
        is_poverty_village
        and case
            when total_population = 0 then false
            else 100 * remaining_persons > 3 * total_population
        end as above_threshold
    from staging.population
),

county as (
    select
        r.county_code,
        r.period,
        r.rows_quarantined as q,
        count(p.excel_row) as villages,
        count(p.excel_row) filter (where p.is_poverty_village) as poverty_villages,
        coalesce(sum(p.registered_persons), 0) as registered_persons,
        count(p.excel_row) filter (where p.registered_persons is null) as registered_blank,
        coalesce(sum(p.remaining_persons), 0) as remaining_persons,
        count(p.excel_row) filter (where p.remaining_persons is null) as remaining_blank,
        coalesce(sum(p.remaining_persons) filter (where p.incidence_known), 0) as incidence_num,
        coalesce(sum(p.total_population) filter (where p.incidence_known), 0) as incidence_den,
        count(p.excel_row) filter (where not p.incidence_known) as incidence_blank,
        count(p.excel_row) filter (where p.above_threshold) as villages_above_threshold,
        count(p.excel_row) filter (
            where p.is_poverty_village and p.above_threshold is null
        ) as threshold_blank
    from reporting as r
    left join rows_ as p on p.county_code = r.county_code and p.period = r.period
    group by r.county_code, r.period, r.rows_quarantined
)

select
    c.county_code,
    c.period,
    'population' as form,
    v.indicator_code,
    cast(v.numerator as decimal(38, 2)) as numerator,
    cast(v.denominator as decimal(38, 2)) as denominator,
    cast(v.units_total as bigint) as units_total,
    cast(v.units_unknown as bigint) as units_unknown
from county as c
cross join lateral (
    values
    ('registered_persons', c.registered_persons, null, c.villages + c.q, c.registered_blank + c.q),
    ('remaining_persons', c.remaining_persons, null, c.villages + c.q, c.remaining_blank + c.q),
    (
        'poverty_incidence',
        c.incidence_num,
        c.incidence_den,
        c.villages + c.q,
        c.incidence_blank + c.q
    ),
    (
        'poverty_villages_remaining',
        c.villages_above_threshold,
        null,
        c.poverty_villages + c.q,
        c.threshold_blank + c.q
    )
) as v (indicator_code, numerator, denominator, units_total, units_unknown)
order by c.county_code, c.period, v.indicator_code
