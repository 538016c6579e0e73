-- grain: one row per county, period and medical-form indicator, for every county that
--   submitted the medical form (表4, township rows)
-- materialized: table
-- the county's numerator and denominator (persons; yuan for reimbursement) over its known
-- rows, additive across counties, and units_total / units_unknown [issue 12] (units: the
-- form's rows plus its quarantined rows). A blank (NULL) cell makes its row unknown for that
-- ratio and leaves it out of both sums.
-- (the rule: intermediate.int_county_units)
select *
from intermediate.int_county_units
where form = 'medical'
order by county_code, period, indicator_code
