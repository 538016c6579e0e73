-- value = numerator / denominator where the denominator is above 0; NULL where it is 0;
-- value = numerator for a plain count (NULL denominator). Units agree: 'ratio' exactly
-- when there is a denominator. A NULL numerator (not assessed, e.g.
-- households_meeting_standard_not_exited in a year without a poverty line) has a NULL value.
select indicator_code, geo_level, geo_code, period, numerator, denominator, value, unit
from marts.indicators
where (unit = 'ratio') <> (denominator is not null)
    or (
        denominator > 0
        and numerator is not null
        and (value is null or abs(value - numerator / denominator) > 1e-12)
    )
    or (numerator is null and value is not null)
    or (denominator = 0 and value is not null)
    or (denominator is null and value is distinct from numerator)
