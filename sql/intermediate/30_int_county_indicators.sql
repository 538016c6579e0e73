-- one row per county, period and indicator code of every form the county submitted:
-- the county's additive numerator and denominator (denominator NULL for a plain count),
-- with the county's name and prefecture from ref.counties. The marts sum these to
-- prefecture and province (a ratio of sums, never an average of ratios). The household
-- ledger's indicators (households_*, af_*) are in intermediate.int_household_indicators.
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
)

select
    f.indicator_code,
    f.form,
    f.county_code,
    c.county_name_zh,
    c.prefecture_code,
    c.prefecture_name_zh,
    f.period,
    f.numerator,
    f.denominator
from facts as f
inner join ref.counties as c on c.county_code = f.county_code
order by f.indicator_code, f.county_code, f.period
