-- grain: one row per township of the current submission of the housing form (表3 农村危房改造) per
--   county and period
-- materialized: table
-- the validated rows of raw.housing whose (file, form) submission is current in
-- raw.submissions; rows of superseded submissions give way. No aggregation.
select
    r.township,
    r.registered_planned,
    r.registered_completed,
    r.subsistence_planned,
    r.subsistence_completed,
    r.extreme_poor_planned,
    r.extreme_poor_completed,
    r.disabled_planned,
    r.disabled_completed,
    r.other_planned,
    r.other_completed,
    r.county_code,
    r.period,
    r.file_sha256,
    r.sheet,
    r.excel_row
from raw.housing as r
inner join raw.submissions as s
    on s.file_sha256 = r.file_sha256
    and s.form = 'housing'
    and s.is_current
order by r.county_code, r.period, r.sheet, r.excel_row
