-- one row per county, period and medical-form indicator, for every county that
-- submitted the medical form (表4, township rows): the county's numerator and
-- denominator (persons; yuan for reimbursement), additive across counties.
-- A blank (NULL) cell leaves its row out of both sums of that ratio.
with reporting as (
    select county_code, period
    from intermediate.int_county_submissions
    where form = 'medical'
),

county as (
    select
        r.county_code,
        r.period,
        coalesce(sum(m.basic_insured_persons) filter (
            where m.basic_insured_persons is not null and m.registered_persons is not null
        ), 0) as basic_insured,
        coalesce(sum(m.registered_persons) filter (
            where m.basic_insured_persons is not null and m.registered_persons is not null
        ), 0) as basic_registered,
        coalesce(sum(m.serious_illness_insured_persons) filter (
            where m.serious_illness_insured_persons is not null
            and m.registered_persons is not null
        ), 0) as serious_insured,
        coalesce(sum(m.registered_persons) filter (
            where m.serious_illness_insured_persons is not null
            and m.registered_persons is not null
        ), 0) as serious_registered,
        coalesce(sum(m.inpatient_reimbursed) filter (
            where m.inpatient_reimbursed is not null and m.inpatient_expense is not null
        ), 0) as reimbursed_yuan,
        coalesce(sum(m.inpatient_expense) filter (
            where m.inpatient_reimbursed is not null and m.inpatient_expense is not null
        ), 0) as expense_yuan
    from reporting as r
    left join staging.medical as m on m.county_code = r.county_code and m.period = r.period
    group by r.county_code, r.period
),

facts as (
    select
        c.county_code,
        c.period,
        v.indicator_code,
        v.numerator,
        v.denominator
    from county as c
    cross join lateral (
        values
        (
            'medical_basic_coverage',
            cast(c.basic_insured as decimal(38, 2)),
            cast(c.basic_registered as decimal(38, 2))
        ),
        (
            'medical_serious_illness_coverage',
            cast(c.serious_insured as decimal(38, 2)),
            cast(c.serious_registered as decimal(38, 2))
        ),
        (
            'medical_reimbursement_rate',
            cast(c.reimbursed_yuan as decimal(38, 2)),
            cast(c.expense_yuan as decimal(38, 2))
        )
    ) as v (indicator_code, numerator, denominator)
)

select
    county_code,
    period,
    'medical' as form,
    indicator_code,
    numerator,
    denominator
from facts
order by county_code, period, indicator_code
