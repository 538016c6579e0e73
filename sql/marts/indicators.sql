-- grain: one row per indicator code, geography level (county, prefecture, province) and
--   geography, and period
-- materialized: table
-- numerator, denominator, value and unit (indicators.md). A ratio (unit 'ratio') is numerator
-- / denominator, NULL when the denominator is 0; at prefecture and province level both are
-- sums over the counties (a ratio of sums, never an average of county ratios). A plain count
-- has a NULL denominator and value = numerator. A geography has a form's indicators only when
-- at least one of its counties submitted that form for the period. The ledger indicators
-- (households_*, af_*) come from intermediate.int_household_indicators at every level, village
-- rows (geo_code = 12-digit village_code) included; only they have village rows. units_total /
-- units_unknown [issue 12]: how many units (villages, townships, sites, households, counties,
-- as the indicator counts them) the geography has and how many of them are unknown (a blank
-- cell, a quarantined row); numerator and denominator cover the known units only, and are NULL
-- when none is known. Upper levels sum their counties'.
-- column value: numerator / denominator (a ratio 0–1) where there is a denominator, else the
--   numerator; NULL when the denominator is 0 or nothing is known
-- column unit: unit of value: ratio, persons, households, villages, sites, counties or yuan
-- column geo_name_zh: geography name in Chinese (village as written in the ledger)
-- column period: reporting period, YYYY-MM
with facts as (
    select * from intermediate.int_county_indicators
),

-- every county counts in itself, its prefecture and the province (ref.geographies)
rolled_up as (
    select
        f.indicator_code,
        g.geo_level,
        g.geo_code,
        g.geo_name_zh,
        f.period,
        sum(f.numerator) as numerator,
        sum(f.denominator) as denominator,
        sum(f.units_total) as units_total,
        sum(f.units_unknown) as units_unknown
    from facts as f
    inner join ref.geographies as g on g.county_code = f.county_code
    group by f.indicator_code, g.geo_level, g.geo_code, g.geo_name_zh, f.period
),

ledger as (
    select
        indicator_code,
        geo_level,
        geo_code,
        geo_name_zh,
        period,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        units_total,
        units_unknown
    from intermediate.int_household_indicators
),

all_levels as (
    select * from rolled_up
    union all
    select * from ledger
)

select
    a.indicator_code,
    a.geo_level,
    a.geo_code,
    a.geo_name_zh,
    a.period,
    cast(a.numerator as double) as numerator,
    cast(a.denominator as double) as denominator,
    case
        when d.unit = 'ratio'
            then cast(a.numerator as double) / cast(nullif(a.denominator, 0) as double)
        else cast(a.numerator as double)
    end as value,
    d.unit,
    cast(a.units_total as bigint) as units_total,
    cast(a.units_unknown as bigint) as units_unknown
from all_levels as a
left join ref.indicator_definitions as d on d.indicator_code = a.indicator_code
order by
    a.indicator_code,
    case a.geo_level
        when 'village' then 0 when 'county' then 1 when 'prefecture' then 2 else 3
    end,
    a.geo_code,
    a.period
