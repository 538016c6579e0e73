-- grain: one row per county, period and form with a current submission (raw.submissions,
--   is_current)
-- materialized: table
-- the "reporting counties" of indicators.md, with the county's prefecture from ref.counties. A
-- county that sent a form with no data rows is here too. rows_quarantined / error_findings
-- count what of that submission did not load; is_complete is true when nothing of it was
-- quarantined, so an empty form means "none" (e.g. no village with unsafe water) rather than
-- "unknown".
-- column error_findings: findings of severity error in this submission
-- column is_complete: true when nothing of the submission was quarantined
with quarantined as (
    select file_sha256, form, count(*) as rows_quarantined
    from quarantine.rows
    group by file_sha256, form
),

errors as (
    select file_sha256, form, count(*) as error_findings
    from quarantine.findings
    where severity = 'error'
    group by file_sha256, form
)

select
    s.county_code,
    c.county_name_zh,
    c.prefecture_code,
    c.prefecture_name_zh,
    s.period,
    s.form,
    s.file_sha256,
    coalesce(q.rows_quarantined, 0) as rows_quarantined,
    coalesce(e.error_findings, 0) as error_findings,
    coalesce(q.rows_quarantined, 0) = 0 and coalesce(e.error_findings, 0) = 0 as is_complete
from raw.submissions as s
inner join ref.counties as c on c.county_code = s.county_code
left join quarantined as q on q.file_sha256 = s.file_sha256 and q.form = s.form
left join errors as e on e.file_sha256 = s.file_sha256 and e.form = s.form
where s.is_current
order by s.county_code, s.period, s.form
