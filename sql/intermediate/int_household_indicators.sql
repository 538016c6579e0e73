-- grain: one row per geography (village, county, prefecture, province), period and ledger
--   indicator (households_*, af_*; indicators.md)
-- materialized: table
-- numerator and denominator over the known households, additive, with units_total and
-- units_unknown [issue 12]. County rows for every county that submitted the household ledger
-- (表9); prefecture and province rows are the sums of their counties' (a ratio of sums);
-- village rows (geo_code = the 12-digit village_code) count the ledger households with that
-- code. Units are households: those the indicator counts over (all of them; the not exited for
-- households_meeting_standard_not_exited; the exited for households_exited_not_meeting), plus,
-- at county level, the ledger's quarantined rows. A household is unknown when its test is NULL
-- (see intermediate.int_households): a blank guarantee for households_lacking_* and the AF
-- measures, a standard that cannot be decided for the two exit-standard counts. A count counts
-- the households whose test is TRUE over those whose test is known; unknown households are in
-- neither. The exit standard needs the income test: where the period's year has no line in
-- ref.poverty_lines it is not assessed, and both exit-standard indicators are NULL with every
-- unit unknown, never 0. Alkire–Foster over the households with all five guarantees reported:
-- n = such households, q = the poor among them, Σ c_i(k) = their censored scores (exact
-- decimals): H = q / n, A = Σ c_i(k) / q, M0 = Σ c_i(k) / n = H × A. Numerator and denominator
-- are NULL when every unit is unknown, or when the ledger loaded no row and something of it
-- did not load; a ledger sent with no data row gives 0. Kept apart from
-- intermediate.int_county_indicators (DECIMAL(38, 2)) so that the score sums keep their 12
-- decimals.
with upper_levels as (
    select r.*
    from intermediate.int_indicator_rollup as r
    inner join ref.indicator_definitions as d
        on d.indicator_code = r.indicator_code and d.form = 'households'
    where r.geo_level <> 'county'
)

select
    indicator_code, geo_level, geo_code, geo_name_zh, period, numerator, denominator,
    units_total, units_unknown
from intermediate.int_household_local_indicators
union all by name
select
    indicator_code, geo_level, geo_code, geo_name_zh, period, numerator, denominator,
    units_total, units_unknown
from upper_levels
order by
    indicator_code,
    case geo_level when 'village' then 0 when 'county' then 1 when 'prefecture' then 2 else 3 end,
    geo_code,
    period
