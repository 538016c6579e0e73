-- grain: one row per county, period and housing-form indicator, for every county that
--   submitted the housing form (表3, township rows)
-- materialized: table
-- the county's numerator and denominator over its known rows, additive across counties, and
-- units_total / units_unknown [issue 12] (units: the form's rows plus its quarantined rows). A
-- blank (NULL) cell makes its row unknown for that ratio and leaves it out of both sums: for
-- the four key categories a row counts only when all eight of its four-key cells are reported.
-- (the rule: intermediate.int_county_units)
select *
from intermediate.int_county_units
where form = 'housing'
order by county_code, period, indicator_code
