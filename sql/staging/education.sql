-- grain: one row per township of the current submission of the education form (表6 控辍保学) per
--   county and period
-- materialized: table
-- the validated rows of raw.education whose (file, form) submission is current in
-- raw.submissions; rows of superseded submissions give way. No aggregation.
select
    r.township,
    r.compulsory_age_children,
    r.dropouts_identified,
    r.dropouts_returned,
    r.dropouts_remaining,
    r.county_code,
    r.period,
    r.file_sha256,
    r.sheet,
    r.excel_row
from raw.education as r
inner join raw.submissions as s
    on s.file_sha256 = r.file_sha256
    and s.form = 'education'
    and s.is_current
order by r.county_code, r.period, r.sheet, r.excel_row
