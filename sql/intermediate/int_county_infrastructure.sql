-- grain: one row per county, period and infrastructure-form indicator, for every county that
--   submitted the infrastructure form (表8, one row per poverty village)
-- materialized: table
-- villages with every facility over villages whose state is known, additive across counties,
-- and units_total / units_unknown [issue 12] (units: the form's villages plus its quarantined
-- rows). A village with a facility 否 is known incomplete; one with every facility 是 is
-- complete; one with a blank cell and no 否 is unknown and counts in neither sum.
-- (the rule: intermediate.int_county_units)
select *
from intermediate.int_county_units
where form = 'infrastructure'
order by county_code, period, indicator_code
