-- No staging row and no current submission has a county code outside ref.counties
-- (such rows would silently drop out of the marts, which join ref.counties).
with staged as (
    select 'population' as form, county_code, period from staging.population
    union all
    select 'relocation', county_code, period from staging.relocation
    union all
    select 'housing', county_code, period from staging.housing
    union all
    select 'medical', county_code, period from staging.medical
    union all
    select 'water', county_code, period from staging.water
    union all
    select 'education', county_code, period from staging.education
    union all
    select 'employment', county_code, period from staging.employment
    union all
    select 'infrastructure', county_code, period from staging.infrastructure
    union all
    select 'households', county_code, period from staging.households
    union all
    select form, county_code, period from raw.submissions where is_current
)

select distinct s.form, s.county_code, s.period
from staged as s
where not exists (select 1 from ref.counties as c where c.county_code = s.county_code)
