-- grain: one row per indicator code, geography level (county, prefecture, province), geography
--   and period, for every indicator with county figures (the forms' and the ledger's)
-- materialized: view
-- The one roll-up: every county counts in itself, its prefecture and the province
-- (ref.geographies); numerator, denominator, units_total and units_unknown are the sums of the
-- counties' (a ratio of sums, never an average of ratios; a NULL county adds nothing), in
-- exact decimals (the ledger's AF scores keep 12 places). Read by marts.indicators and, for
-- the ledger's upper levels, intermediate.int_household_indicators.
with counties as (
    select
        indicator_code,
        county_code,
        period,
        cast(numerator as decimal(38, 12)) as numerator,
        cast(denominator as decimal(38, 12)) as denominator,
        units_total,
        units_unknown
    from intermediate.int_county_indicators
    union all
    select
        indicator_code, geo_code, period, numerator, denominator, units_total, units_unknown
    from intermediate.int_household_local_indicators
    where geo_level = 'county'
)

select
    c.indicator_code,
    g.geo_level,
    g.geo_code,
    g.geo_name_zh,
    c.period,
    sum(c.numerator) as numerator,
    sum(c.denominator) as denominator,
    cast(sum(c.units_total) as bigint) as units_total,
    cast(sum(c.units_unknown) as bigint) as units_unknown
from counties as c
inner join ref.geographies as g on g.county_code = c.county_code
group by c.indicator_code, g.geo_level, g.geo_code, g.geo_name_zh, c.period
