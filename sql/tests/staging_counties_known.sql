-- No staging row and no current submission has a county code outside ref.counties
-- (such rows would silently drop out of the marts, which join ref.counties).
with staged as (
    select form, county_code, period from intermediate.int_form_rows
    union all
    select 'households', county_code, period from staging.households
    union all
    select form, county_code, period from raw.submissions where is_current
)

select distinct s.form, s.county_code, s.period
from staged as s
where not exists (select 1 from ref.counties as c where c.county_code = s.county_code)
