-- grain: one row per indicator code, geography level (county, prefecture, province) and
--   geography, and period
-- materialized: table
-- numerator, denominator, value and unit (indicators.md). A ratio (unit 'ratio') is numerator
-- / denominator, NULL when the denominator is 0; at prefecture and province level both are
-- sums over the counties (a ratio of sums, never an average of county ratios). A plain count
-- has a NULL denominator and value = numerator. A geography has a form's indicators only when
-- at least one of its counties submitted that form for the period. Every level is the one
-- roll-up of the counties (intermediate.int_indicator_rollup), the ledger indicators
-- (households_*, af_*) included; only they have village rows (geo_code = 12-digit
-- village_code, intermediate.int_household_local_indicators). units_total /
-- units_unknown [issue 12]: how many units (villages, townships, sites, households, counties,
-- as the indicator counts them) the geography has and how many of them are unknown (a blank
-- cell, a quarantined row); numerator and denominator cover the known units only, and are NULL
-- when none is known. Upper levels sum their counties'.
-- column value: numerator / denominator (a ratio 0–1) where there is a denominator, else the
--   numerator; NULL when the denominator is 0 or nothing is known
-- column unit: unit of value: ratio, persons, households, villages, sites, counties or yuan
-- column geo_name_zh: geography name in Chinese (village as written in the ledger)
-- column period: reporting period, YYYY-MM
-- the counties rolled up to every level (intermediate.int_indicator_rollup), and the ledger's
-- village rows
with all_levels as (
    select * from intermediate.int_indicator_rollup
    union all by name
    select
        indicator_code, geo_level, geo_code, geo_name_zh, period, numerator, denominator,
        units_total, units_unknown
    from intermediate.int_household_local_indicators
    where geo_level = 'village'
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
