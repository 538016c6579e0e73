-- Prefecture and province numerators and denominators equal the sums of their counties'
-- (every indicator here is additive: counts of counties are 0/1 per county).
with county_sums as (
    select
        i.indicator_code,
        i.period,
        c.prefecture_code,
        sum(i.numerator) as numerator,
        sum(i.denominator) as denominator
    from marts.indicators as i
    inner join ref.counties as c on c.county_code = i.geo_code
    where i.geo_level = 'county'
    group by i.indicator_code, i.period, c.prefecture_code
),

expected as (
    select
        indicator_code,
        period,
        'prefecture' as geo_level,
        prefecture_code as geo_code,
        numerator,
        denominator
    from county_sums
    union all
    select
        indicator_code,
        period,
        'province' as geo_level,
        p.geo_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from county_sums
    -- the one province every county counts in
    cross join (select distinct geo_code from ref.geographies where geo_level = 'province') as p
    group by indicator_code, period, p.geo_code
),

upper_levels as (
    select indicator_code, period, geo_level, geo_code, numerator, denominator
    from marts.indicators
    where geo_level in ('prefecture', 'province')
)

select
    coalesce(e.indicator_code, u.indicator_code) as indicator_code,
    coalesce(e.period, u.period) as period,
    coalesce(e.geo_level, u.geo_level) as geo_level,
    coalesce(e.geo_code, u.geo_code) as geo_code,
    e.numerator as county_sum_numerator,
    u.numerator,
    e.denominator as county_sum_denominator,
    u.denominator
from expected as e
full outer join upper_levels as u
    on u.indicator_code = e.indicator_code
    and u.period = e.period
    and u.geo_level = e.geo_level
    and u.geo_code = e.geo_code
where e.indicator_code is null
    or u.indicator_code is null
    or (e.numerator is null) <> (u.numerator is null)
    or (e.denominator is null) <> (u.denominator is null)
    or abs(e.numerator - u.numerator) > 1e-6 * greatest(1, abs(e.numerator))
    or abs(e.denominator - u.denominator) > 1e-6 * greatest(1, abs(e.denominator))
