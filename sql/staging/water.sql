-- grain: one row per administrative village with any unsafe household of the current
--   submission of the water form (表5 农村饮水安全) per county and period
-- materialized: table
-- the validated rows of raw.water whose (file, form) submission is current in raw.submissions;
-- rows of superseded submissions give way. No aggregation.
select
    r.township,
    r.village,
    r.unsafe_households_start,
    r.unsafe_persons_start,
    r.resolved_households,
    r.resolved_persons,
    r.unsafe_households_end,
    r.unsafe_persons_end,
    r.county_code,
    r.period,
    r.file_sha256,
    r.sheet,
    r.excel_row
from raw.water as r
inner join raw.submissions as s
    on s.file_sha256 = r.file_sha256
    and s.form = 'water'
    and s.is_current
order by r.county_code, r.period, r.sheet, r.excel_row
