-- grain: one row per county, period and medical-form indicator, for every county that
--   submitted the medical form (表4, township rows)
-- materialized: table
-- the county's numerator and denominator (persons; yuan for reimbursement) over its known
-- rows, additive across counties, and units_total / units_unknown [issue 12] (units: the
-- form's rows plus its quarantined rows). A blank (NULL) cell makes its row unknown for that
-- ratio and leaves it out of both sums.
with reporting as (
    select county_code, period, rows_quarantined
    from intermediate.int_county_submissions
    where form = 'medical'
),

rows_ as (
    select
        *,
        basic_insured_persons is not null and registered_persons is not null as basic_known,
        serious_illness_insured_persons is not null
        and registered_persons is not null as serious_known,
        inpatient_reimbursed is not null and inpatient_expense is not null as expense_known
    from staging.medical
),

county as (
    select
        r.county_code,
        r.period,
        r.rows_quarantined as q,
        count(m.excel_row) as n_rows,
        count(m.excel_row) filter (where not m.basic_known) as basic_blank,
        coalesce(sum(m.basic_insured_persons) filter (where m.basic_known), 0) as basic_insured,
        coalesce(sum(m.registered_persons) filter (where m.basic_known), 0) as basic_registered,
        count(m.excel_row) filter (where not m.serious_known) as serious_blank,
        coalesce(sum(m.serious_illness_insured_persons) filter (where m.serious_known), 0)
            as serious_insured,
        coalesce(sum(m.registered_persons) filter (where m.serious_known), 0)
            as serious_registered,
        count(m.excel_row) filter (where not m.expense_known) as expense_blank,
        coalesce(sum(m.inpatient_reimbursed) filter (where m.expense_known), 0)
            as reimbursed_yuan,
        coalesce(sum(m.inpatient_expense) filter (where m.expense_known), 0) as expense_yuan
    from reporting as r
    left join rows_ as m on m.county_code = r.county_code and m.period = r.period
    group by r.county_code, r.period, r.rows_quarantined
)

select
    c.county_code,
    c.period,
    'medical' as form,
    v.indicator_code,
    cast(v.numerator as decimal(38, 2)) as numerator,
    cast(v.denominator as decimal(38, 2)) as denominator,
    cast(c.n_rows + c.q as bigint) as units_total,
    cast(v.blank + c.q as bigint) as units_unknown
from county as c
cross join lateral (
    values
    ('medical_basic_coverage', c.basic_insured, c.basic_registered, c.basic_blank),
    (
        'medical_serious_illness_coverage',
        c.serious_insured,
        c.serious_registered,
        c.serious_blank
    ),
    ('medical_reimbursement_rate', c.reimbursed_yuan, c.expense_yuan, c.expense_blank)
) as v (indicator_code, numerator, denominator, blank)
order by c.county_code, c.period, v.indicator_code
