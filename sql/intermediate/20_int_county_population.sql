-- one row per county, period and population-form indicator, for every county that
-- submitted the population form (表1, village rows): the county's numerator and
-- denominator, additive across counties (denominator NULL for a plain count).
-- A blank (NULL) cell: a sum adds the reported cells only; a ratio leaves the village
-- out of both its sums; a village with a blank count is not counted as above 3%.
-- A form sent with no village rows gives 0, or NULL when rows of it were quarantined.
with reporting as (
    select county_code, period, is_complete
    from intermediate.int_county_submissions
    where form = 'population'
),

county as (
    select
        r.county_code,
        r.period,
        r.is_complete,
        count(p.excel_row) as n_rows,
        sum(p.registered_persons) as registered_persons,
        sum(p.remaining_persons) as remaining_persons,
        coalesce(sum(p.remaining_persons) filter (
            where p.remaining_persons is not null and p.total_population is not null
        ), 0) as incidence_num,
        coalesce(sum(p.total_population) filter (
            where p.remaining_persons is not null and p.total_population is not null
        ), 0) as incidence_den,
        -- incidence above 3%, in whole numbers: remaining / total > 3 / 100
        count(*) filter (
            where p.is_poverty_village
            and p.total_population > 0
            and 100 * p.remaining_persons > 3 * p.total_population
        ) as villages_above_threshold
    from reporting as r
    left join staging.population as p on p.county_code = r.county_code and p.period = r.period
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
            'registered_persons',
            if(c.n_rows = 0, if(c.is_complete, 0, null), c.registered_persons),
            null
        ),
        (
            'remaining_persons',
            if(c.n_rows = 0, if(c.is_complete, 0, null), c.remaining_persons),
            null
        ),
        ('poverty_incidence', c.incidence_num, c.incidence_den),
        (
            'poverty_villages_remaining',
            if(c.n_rows = 0 and not c.is_complete, null, c.villages_above_threshold),
            null
        )
    ) as v (indicator_code, numerator, denominator)
)

select
    county_code,
    period,
    'population' as form,
    indicator_code,
    cast(numerator as decimal(38, 2)) as numerator,
    cast(denominator as decimal(38, 2)) as denominator
from facts
order by county_code, period, indicator_code
