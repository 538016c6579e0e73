-- grain: one row per geography level (village, county, prefecture, province), geography and
--   period with at least one indicator in marts.indicators
-- materialized: table
-- the value of every indicator code of ref.indicator_definitions as a column, in its order
-- (NULL where the form was not submitted, the indicator is not built yet or its value is
-- unknown [issue 12]). The column set is fixed by ref.indicator_definitions; numerators,
-- denominators and units are in marts.indicators. The one pivot behind
-- marts.county_indicators, marts.prefecture_indicators and marts.province_indicators (issue
-- 14).
-- column geo_name_zh: geography name in Chinese (ref.geographies; a village's as written in
--   the ledger)
select *
from (
    pivot (
        select geo_level, geo_code, geo_name_zh, period, indicator_code, value
        from marts.indicators
    )
    on indicator_code in (
        select indicator_code from ref.indicator_definitions order by ordinal
    )
    using max(value)
    group by geo_level, geo_code, geo_name_zh, period
)
order by geo_level, geo_code, period
