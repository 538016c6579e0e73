-- grain: one row per county, period and indicator code of every form the county submitted
-- materialized: table
-- the county's additive numerator and denominator over its known units (denominator NULL for a
-- plain count), units_total and units_unknown (the units — villages, townships, sites,
-- households, or the county itself — the indicator counts over, and how many of them are
-- unknown: a blank cell it needs, or a quarantined row), with the county's name and prefecture
-- from ref.counties. Unknown is never zero [issue 12]: the numerator and denominator are NULL
-- when every unit is unknown, or when the form loaded no unit and something of it did not load
-- (a sheet rejected as a whole). The marts sum these to prefecture and province (a ratio of
-- sums, never an average of ratios; a NULL county adds nothing). The household ledger's
-- indicators (households_*, af_*) are in intermediate.int_household_indicators.
with facts as (
    select * from intermediate.int_county_population
    union all by name
    select * from intermediate.int_county_relocation
    union all by name
    select * from intermediate.int_county_housing
    union all by name
    select * from intermediate.int_county_medical
    union all by name
    select * from intermediate.int_county_water
    union all by name
    select * from intermediate.int_county_education
    union all by name
    select * from intermediate.int_county_employment
    union all by name
    select * from intermediate.int_county_infrastructure
),

known as (
    select
        f.*,
        (f.units_total > 0 and f.units_unknown >= f.units_total)
        or (f.units_total = 0 and not s.is_complete) as all_unknown
    from facts as f
    inner join intermediate.int_county_submissions as s
        on s.county_code = f.county_code and s.period = f.period and s.form = f.form
)

select
    f.indicator_code,
    f.form,
    f.county_code,
    c.county_name_zh,
    c.prefecture_code,
    c.prefecture_name_zh,
    f.period,
    if(f.all_unknown, null, f.numerator) as numerator,
    if(f.all_unknown, null, f.denominator) as denominator,
    f.units_total,
    f.units_unknown
from known as f
inner join ref.counties as c on c.county_code = f.county_code
order by f.indicator_code, f.county_code, f.period
