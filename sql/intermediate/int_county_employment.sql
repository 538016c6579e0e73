-- grain: one row per county, period and employment-form indicator, for every county that
--   submitted the employment form (表7, township rows)
-- materialized: table
-- the county's sum of each count over its reported cells (denominator NULL), and units_total /
-- units_unknown [issue 12] (units: the form's rows plus its quarantined rows; a row with the
-- cell blank is unknown).
-- (the rule: intermediate.int_county_units)
select *
from intermediate.int_county_units
where form = 'employment'
order by county_code, period, indicator_code
