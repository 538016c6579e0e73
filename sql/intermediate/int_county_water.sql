-- grain: one row per county, period and water-form indicator, for every county that submitted
--   the water form (表5, one row per village with any unsafe household)
-- materialized: table
-- the county's numerator and denominator over its known units, additive across counties, and
-- units_total / units_unknown [issue 12]. Units: the form's rows plus its quarantined rows for
-- the sums; the county itself for water_zero_counties (1/1 at zero, 0/1 not at zero). A form
-- sent with no village rows means no unsafe household (sums 0, county at zero) unless rows of
-- it were quarantined. A county is known not to be at zero when a reported end-of-period cell
-- is above 0; it is at zero when every cell is reported and 0 and no row is quarantined;
-- otherwise (a blank cell or a quarantined row, none above 0) whether it is at zero is
-- unknown: numerator and denominator NULL, so it counts in neither
-- (intermediate.int_county_indicators).
-- The sums follow the rule of intermediate.int_county_units; the county at zero is stated here.
with counted as (
    select *
    from intermediate.int_county_units
    where form = 'water'
),

above_zero as (
    select county_code, period
    from staging.water
    where unsafe_households_end > 0
    group by county_code, period
),

zero as (
    select
        c.county_code,
        c.period,
        c.form,
        case
            when a.county_code is not null then false
            -- every end-of-period cell reported and nothing quarantined
            when s.is_complete and c.units_unknown = 0 then true
        end as at_zero
    from counted as c
    inner join intermediate.int_county_submissions as s
        on s.county_code = c.county_code and s.period = c.period and s.form = c.form
    left join above_zero as a on a.county_code = c.county_code and a.period = c.period
    where c.indicator_code = 'water_unsafe_households'
)

select
    county_code,
    period,
    form,
    'water_zero_counties' as indicator_code,
    cast(if(at_zero, 1, 0) as decimal(38, 2)) as numerator,
    cast(if(at_zero is null, 0, 1) as decimal(38, 2)) as denominator,
    cast(1 as bigint) as units_total,
    cast(if(at_zero is null, 1, 0) as bigint) as units_unknown
from zero
union all
select * from counted
order by county_code, period, indicator_code
