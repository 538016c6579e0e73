-- grain: one row per administrative village of the current submission of the population form
--   (表1 建档立卡贫困人口情况) per county and period
-- materialized: table
-- the validated rows of raw.population whose (file, form) submission is current in
-- raw.submissions; rows of superseded submissions give way. No aggregation.
select
    r.township,
    r.village,
    r.village_code,
    r.is_poverty_village,
    r.total_households,
    r.total_population,
    r.registered_households,
    r.registered_persons,
    r.exited_households,
    r.exited_persons,
    r.remaining_households,
    r.remaining_persons,
    r.poverty_incidence,
    r.county_code,
    r.period,
    r.file_sha256,
    r.sheet,
    r.excel_row
from raw.population as r
inner join raw.submissions as s
    on s.file_sha256 = r.file_sha256
    and s.form = 'population'
    and s.is_current
order by r.county_code, r.period, r.sheet, r.excel_row
