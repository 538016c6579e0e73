-- grain: one row per township of the current submission of the employment form (表7 就业扶贫) per
--   county and period
-- materialized: table
-- the validated rows of raw.employment whose (file, form) submission is current in
-- raw.submissions; rows of superseded submissions give way. No aggregation.
select
    r.township,
    r.labor_force,
    r.migrant_employed,
    r.workshops,
    r.workshop_employed,
    r.public_welfare_jobs,
    r.ecological_rangers,
    r.county_code,
    r.period,
    r.file_sha256,
    r.sheet,
    r.excel_row
from raw.employment as r
inner join raw.submissions as s
    on s.file_sha256 = r.file_sha256
    and s.form = 'employment'
    and s.is_current
order by r.county_code, r.period, r.sheet, r.excel_row
