-- grain: one row per geography (village, county, prefecture, province), period and main cause
--   of poverty (主要致贫原因) written in the household ledger
-- materialized: table
-- the ledger households with that cause, and their share of the geography's ledger households.
-- main_cause is NULL for the households whose cause cell was blank. Only causes with at least
-- one household have a row. Village rows (geo_code = 12-digit village_code) count the
-- households with a code.
-- column share: share of the geography's ledger households (0–1)
-- column period: reporting period, YYYY-MM
-- column households: ledger households whose main cause is main_cause
-- column main_cause: main cause of poverty (主要致贫原因) as on the ledger; NULL where blank
with counts as (
    select
        geo_level,
        geo_code,
        period,
        main_cause,
        min(geo_name_zh) as geo_name_zh,
        count(*) as households
    from intermediate.int_household_geographies
    group by geo_level, geo_code, period, main_cause
)

select
    geo_level,
    geo_code,
    period,
    main_cause,
    households,
    min(geo_name_zh) over (partition by geo_level, geo_code, period) as geo_name_zh,
    cast(households as double)
    / sum(households) over (partition by geo_level, geo_code, period) as share
from counts
order by
    case geo_level when 'village' then 0 when 'county' then 1 when 'prefecture' then 2 else 3 end,
    geo_code,
    period,
    households desc,
    main_cause nulls last
