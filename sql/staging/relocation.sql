-- grain: one row per resettlement site (scattered: township) of the current submission of the
--   relocation form (表2 易地扶贫搬迁安置点建设进度) per county and period
-- materialized: table
-- the validated rows of raw.relocation whose (file, form) submission is current in
-- raw.submissions; rows of superseded submissions give way. No aggregation.
select
    r.site_name,
    r.township,
    r.resettlement_mode,
    r.resettlement_area,
    r.planned_households,
    r.planned_persons,
    r.registered_persons,
    r.planned_units,
    r.started_units,
    r.completed_units,
    r.moved_in_households,
    r.moved_in_persons,
    r.completion_date,
    r.county_code,
    r.period,
    r.file_sha256,
    r.sheet,
    r.excel_row
from raw.relocation as r
inner join raw.submissions as s
    on s.file_sha256 = r.file_sha256
    and s.form = 'relocation'
    and s.is_current
order by r.county_code, r.period, r.sheet, r.excel_row
