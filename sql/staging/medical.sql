-- grain: one row per township of the current submission of the medical form (表4 建档立卡贫困人口医疗保障)
--   per county and period
-- materialized: table
-- the validated rows of raw.medical whose (file, form) submission is current in
-- raw.submissions; rows of superseded submissions give way. No aggregation.
select
    r.township,
    r.registered_persons,
    r.basic_insured_persons,
    r.serious_illness_insured_persons,
    r.medical_assistance_cases,
    r.inpatient_expense,
    r.inpatient_reimbursed,
    r.county_code,
    r.period,
    r.file_sha256,
    r.sheet,
    r.excel_row
from raw.medical as r
inner join raw.submissions as s
    on s.file_sha256 = r.file_sha256
    and s.form = 'medical'
    and s.is_current
order by r.county_code, r.period, r.sheet, r.excel_row
