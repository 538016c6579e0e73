-- grain: one row per registered household of the current submission of the households form (表9
--   建档立卡贫困户台账) per county and period
-- materialized: table
-- the validated rows of raw.households whose (file, form) submission is current in
-- raw.submissions; rows of superseded submissions give way. No aggregation. Personal data
-- never reaches this table: no head_name, and head_id_hash (HMAC-SHA256 of the normalised ID
-- number) instead of head_id_number.
select
    r.household_id,
    r.head_id_hash,
    r.township,
    r.village,
    r.village_code,
    r.household_size,
    r.poverty_attribute,
    r.main_cause,
    r.registered_year,
    r.exit_year,
    r.income_per_capita,
    r.food_clothing_secure,
    r.education_secured,
    r.medical_secured,
    r.housing_secured,
    r.water_secured,
    r.county_code,
    r.period,
    r.file_sha256,
    r.sheet,
    r.excel_row
from raw.households as r
inner join raw.submissions as s
    on s.file_sha256 = r.file_sha256
    and s.form = 'households'
    and s.is_current
order by r.county_code, r.period, r.sheet, r.excel_row
