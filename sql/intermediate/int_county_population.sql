-- grain: one row per county, period and population-form indicator, for every county that
--   submitted the population form (表1, village rows)
-- materialized: table
-- the county's numerator and denominator over its known units, additive across counties
-- (denominator NULL for a plain count), and units_total / units_unknown [issue 12]. The units
-- are villages: the form's rows plus its quarantined rows (whose values are unknown); for
-- poverty_villages_remaining the poverty villages (是否贫困村 = 是) plus the quarantined rows. A
-- village is unknown for an indicator when a cell it needs is blank: a sum adds the known
-- cells; a ratio leaves the village out of both its sums; a village whose incidence is blank
-- is neither counted above 3% nor below it. intermediate.int_county_indicators turns the
-- numerator and denominator NULL when every unit is unknown.
-- (the rule: intermediate.int_county_units)
select *
from intermediate.int_county_units
where form = 'population'
order by county_code, period, indicator_code
