-- grain: one row per county, period and education-form indicator, for every county that
--   submitted the education form (表6, township rows)
-- materialized: table
-- the county's numerator and denominator over its known rows, additive across counties
-- (denominator NULL for a plain count), and units_total / units_unknown [issue 12] (units: the
-- form's rows plus its quarantined rows). A blank (NULL) cell makes its row unknown: a sum
-- adds the reported cells only; a ratio leaves the row out of both its sums.
-- (the rule: intermediate.int_county_units)
select *
from intermediate.int_county_units
where form = 'education'
order by county_code, period, indicator_code
