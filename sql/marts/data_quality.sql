-- grain: one row per county of ref.counties and period of raw.submissions (counties that sent
--   nothing included)
-- materialized: table
-- which of the nine forms arrived (current submissions) and which did not, files received /
-- loaded / superseded / rejected / not read, whether the county sent nothing, sent a file
-- that was rejected (submission_state 'rejected', with rejected_reasons) or has loaded
-- forms, data rows loaded (the current rows in staging) and quarantined, error and warning
-- findings, and reported totals that differ from the sum of their detail rows (rule
-- total_mismatch), columns that hold data but were not read (rule column_not_read) and
-- optional standard columns a sheet lacks (rule column_missing) [issue 12]. Quarantined
-- rows and findings count for the files still loaded (raw.files status 'loaded'), leaving
-- out the parts of a file whose form was superseded by a later file. Ledger checks
-- (marts.reconciliation; NULL unless the county sent both the household ledger and the
-- population form): villages whose counts differ between the two
-- (reconciliation_differences), ledger villages missing from the population form,
-- villages of the form with registered households but none in the ledger, and villages
-- whose code does not match the county; duplicate_id_households (NULL without a ledger):
-- households whose head's pseudonym also heads another household of the period, in any
-- county.
with periods as (
    select distinct period from raw.submissions
),

grid as (
    select
        c.county_code,
        c.county_name_zh,
        c.prefecture_code,
        c.prefecture_name_zh,
        p.period
    from ref.counties as c
    cross join periods as p
),

forms as (
    select form, ordinal as ord from ref.forms
),

received as (
    select distinct county_code, period, form
    from raw.submissions
    where is_current
),

form_lists as (
    select
        g.county_code,
        g.period,
        count(r.form) as forms_received,
        string_agg(f.form, ',' order by f.ord) filter (where r.form is not null)
            as forms_received_list,
        string_agg(f.form, ',' order by f.ord) filter (where r.form is null) as forms_missing
    from grid as g
    cross join forms as f
    left join received as r
        on r.county_code = g.county_code and r.period = g.period and r.form = f.form
    group by g.county_code, g.period
),

-- [issue 12] a rejected or not-read file counts for the county its name or folder names
-- (raw.files.identified_from); an archive read in place counts through its members
files as (
    select
        g.county_code,
        g.period,
        count(f.county_code) as files_received,
        count(*) filter (where f.status = 'loaded') as files_loaded,
        count(*) filter (where f.status = 'superseded') as files_superseded,
        count(*) filter (where f.status = 'rejected') as files_rejected,
        count(*) filter (where f.status = 'not_read') as files_not_read,
        string_agg(f.message, '；' order by f.path)
            filter (where f.status in ('rejected', 'not_read')) as rejected_reasons
    from grid as g
    left join raw.files as f
        on f.county_code = g.county_code and f.period = g.period and f.status <> 'expanded'
    group by g.county_code, g.period
),

staged as (
    select county_code, period from staging.population
    union all select county_code, period from staging.relocation
    union all select county_code, period from staging.housing
    union all select county_code, period from staging.medical
    union all select county_code, period from staging.water
    union all select county_code, period from staging.education
    union all select county_code, period from staging.employment
    union all select county_code, period from staging.infrastructure
    union all select county_code, period from staging.households
),

rows_loaded as (
    select g.county_code, g.period, count(s.period) as rows_loaded
    from grid as g
    left join staged as s on s.county_code = g.county_code and s.period = g.period
    group by g.county_code, g.period
),

-- quarantined rows and findings of the files still loaded, leaving out the
-- parts of a file whose form was superseded by a later file
kept as (
    select lf.county_code, lf.period, q.is_row, q.severity, q.rule
    from (
        select file_sha256, form, true as is_row, null as severity, null as rule
        from quarantine.rows
        union all
        select file_sha256, form, false, severity, rule
        from quarantine.findings
    ) as q
    inner join raw.files as lf on lf.file_sha256 = q.file_sha256 and lf.status = 'loaded'
    where not exists (
        select 1
        from raw.submissions as sp
        where not sp.is_current and sp.file_sha256 = q.file_sha256 and sp.form = q.form
    )
),

findings as (
    select
        g.county_code,
        g.period,
        count(*) filter (where k.is_row) as rows_quarantined,
        count(*) filter (where k.severity = 'error') as errors,
        count(*) filter (where k.severity = 'warning') as warnings,
        count(*) filter (where k.rule = 'total_mismatch') as total_mismatches,
        count(*) filter (where k.rule = 'column_not_read') as columns_not_read,
        count(*) filter (where k.rule = 'column_missing') as columns_missing
    from grid as g
    left join kept as k on k.county_code = g.county_code and k.period = g.period
    group by g.county_code, g.period
),

-- the ledger checks: NULL unless the county sent the ledger (and, for reconciliation, the
-- population form)
ledger_checks as (
    select
        r.county_code,
        r.period,
        count(*) filter (where h.head_id_shared) as duplicate_id_households
    from received as r
    left join intermediate.int_households as h
        on h.county_code = r.county_code and h.period = r.period
    where r.form = 'households'
    group by r.county_code, r.period
),

reconciled as (
    select
        p.county_code,
        p.period,
        count(*) filter (where c.status = 'both' and c.has_difference)
            as reconciliation_differences,
        count(*) filter (where c.status = 'ledger_only') as ledger_villages_missing_from_population,
        count(*) filter (where c.status = 'population_only' and c.has_difference)
            as population_villages_missing_from_ledger,
        count(*) filter (where not c.code_matches_county) as village_codes_not_matching_county
    from ledger_checks as l
    inner join received as p
        on p.county_code = l.county_code and p.period = l.period and p.form = 'population'
    left join marts.reconciliation as c on c.county_code = p.county_code and c.period = p.period
    group by p.county_code, p.period
)

select
    g.county_code,
    g.county_name_zh,
    g.prefecture_code,
    g.prefecture_name_zh,
    g.period,
    fl.forms_received,
    coalesce(fl.forms_received_list, '') as forms_received_list,
    coalesce(fl.forms_missing, '') as forms_missing,
    fi.files_received,
    fi.files_loaded,
    fi.files_superseded,
    fi.files_rejected,
    rl.rows_loaded,
    fd.rows_quarantined,
    fd.errors,
    fd.warnings,
    fd.total_mismatches,
    fd.columns_not_read,
    fd.columns_missing,
    rc.reconciliation_differences,
    rc.ledger_villages_missing_from_population,
    rc.population_villages_missing_from_ledger,
    rc.village_codes_not_matching_county,
    lc.duplicate_id_households,
    -- [issue 12] a county that sent only rejected or not-read files did send something
    fi.files_not_read,
    case
        when fl.forms_received > 0 then 'loaded'
        when fi.files_received > 0 then 'rejected'
        else 'nothing'
    end as submission_state,
    fi.rejected_reasons
from grid as g
inner join form_lists as fl on fl.county_code = g.county_code and fl.period = g.period
inner join files as fi on fi.county_code = g.county_code and fi.period = g.period
inner join rows_loaded as rl on rl.county_code = g.county_code and rl.period = g.period
inner join findings as fd on fd.county_code = g.county_code and fd.period = g.period
left join reconciled as rc on rc.county_code = g.county_code and rc.period = g.period
left join ledger_checks as lc on lc.county_code = g.county_code and lc.period = g.period
order by g.county_code, g.period
