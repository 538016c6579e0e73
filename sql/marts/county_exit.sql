-- grain: one row per county and period for every county that sent the population form (表1)
-- materialized: table
-- its exit position by the western 3% rule (indicators.md). poverty_incidence = Σ
-- remaining_persons / Σ total_population over its villages with both reported (as the
-- indicator poverty_incidence), a ratio 0–1, NULL when the sum of population is 0 or no
-- village has both counts (remaining_persons and total_population NULL then, never 0);
-- below_threshold: incidence ≤ 0.03, tested exactly (100 × Σ remaining ≤ 3 × Σ total). The
-- county exit also needs the survey criteria (wrong-exit rate 错退率 and missed-registration
-- rate 漏评率 ≤ 2%, mass satisfaction ≥ 90%) that the forms do not carry: survey_criteria is 'not
-- assessed' and eligible is always NULL, never passed. is_poverty_county: the county is one of
-- the 88 of ref.poverty_counties, whose official exit year (assessment batch) is
-- official_exit_year.
-- column is_poverty_county: nationally designated poverty county (ref.poverty_counties)
-- column below_threshold: poverty incidence at or below 3% (ratio ≤ 0.03, no rounding); NULL
--   where the incidence is unknown
-- column eligible: meets every exit criterion; NULL where any criterion is not assessed
-- column survey_criteria: exit criteria from surveys (wrong-exit, missed-registration rates,
--   satisfaction): not carried by the forms, always 'not assessed'
-- column period: reporting period, YYYY-MM
-- column poverty_incidence: poverty incidence as a ratio 0–1 (remaining persons / total
--   population over villages with both reported)
-- column remaining_persons: Σ 未脱贫人口数 over the county's villages with both counts
-- column total_population: Σ 总人口 over the county's villages with both counts
-- column official_exit_year: year of the county's official exit (ref.poverty_counties); NULL
--   for a county that was not a poverty county
with reporting as (
    select county_code, county_name_zh, prefecture_code, period
    from intermediate.int_county_submissions
    where form = 'population'
),

incidence as (
    select county_code, period, numerator, denominator
    from intermediate.int_county_indicators
    where indicator_code = 'poverty_incidence'
)

select
    r.county_code,
    r.period,
    pc.county_code is not null as is_poverty_county,
    cast(i.numerator as double) / cast(nullif(i.denominator, 0) as double) as poverty_incidence,
    case when i.denominator > 0 then 100 * i.numerator <= 3 * i.denominator end
        as below_threshold,
    'not assessed' as survey_criteria,
    cast(null as boolean) as eligible,
    r.county_name_zh,
    r.prefecture_code,
    cast(i.numerator as bigint) as remaining_persons,
    cast(i.denominator as bigint) as total_population,
    cast(pc.exit_year as integer) as official_exit_year
from reporting as r
left join incidence as i on i.county_code = r.county_code and i.period = r.period
left join ref.poverty_counties as pc on pc.county_code = r.county_code
order by r.county_code, r.period
