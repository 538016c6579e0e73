-- Every ratio lies between 0 and 1. The upper bound is left out for the ratios whose
-- "numerator <= denominator" is not an error rule on every row (a row above it loads,
-- flagged by a warning finding, so the value may honestly exceed 1):
-- housing completed <= planned and relocation moved_in <= planned are warnings;
-- relocation completed <= started <= planned and population remaining <= registered <=
-- total_population are chains that a blank middle cell leaves unchecked.
select indicator_code, geo_level, geo_code, period, numerator, denominator, value
from marts.indicators
where unit = 'ratio'
    and (
        value < 0
        or (
            value > 1
            and indicator_code not in (
                'housing_key_completion_rate',
                'housing_other_completion_rate',
                'relocation_move_in_rate',
                'relocation_units_completion_rate',
                'poverty_incidence'
            )
        )
    )
