-- value = numerator / denominator where the denominator is above 0; NULL where it is 0;
-- value = numerator for a plain count (NULL denominator). Units agree: a plain count never
-- has a denominator, and a ratio has one unless its value is unknown (numerator NULL:
-- every unit unknown or not assessed, e.g. households_meeting_standard_not_exited in a
-- year without a poverty line), which has a NULL value. units_unknown is between 0 and
-- units_total, and a county or village indicator with units, none of them known, is NULL
-- [issue 12] (a prefecture may add a known 0 of a county without units).
select
    indicator_code, geo_level, geo_code, period, numerator, denominator, value, unit,
    units_total, units_unknown
from marts.indicators
where (unit <> 'ratio' and denominator is not null)
    or (unit = 'ratio' and denominator is null and numerator is not null)
    or units_total is null
    or units_unknown < 0
    or units_unknown > units_total
    or (
        geo_level in ('village', 'county')
        and units_total > 0
        and units_unknown = units_total
        and numerator is not null
    )
    or (
        denominator > 0
        and numerator is not null
        and (value is null or abs(value - numerator / denominator) > 1e-12)
    )
    or (numerator is null and value is not null)
    or (denominator = 0 and value is not null)
    or (denominator is null and value is distinct from numerator)
