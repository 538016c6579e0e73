-- grain: one row per poverty village of the current submission of the infrastructure form (表8
--   贫困村基础设施) per county and period
-- materialized: table
-- the validated rows of raw.infrastructure whose (file, form) submission is current in
-- raw.submissions; rows of superseded submissions give way. No aggregation.
select
    r.township,
    r.village,
    r.village_code,
    r.hardened_road,
    r.power_grid,
    r.optical_fiber,
    r.broadband,
    r.standard_clinic,
    r.activity_site,
    r.service_station,
    r.county_code,
    r.period,
    r.file_sha256,
    r.sheet,
    r.excel_row
from raw.infrastructure as r
inner join raw.submissions as s
    on s.file_sha256 = r.file_sha256
    and s.form = 'infrastructure'
    and s.is_current
order by r.county_code, r.period, r.sheet, r.excel_row
