-- grain: one row per county, period and relocation-form indicator, for every county that
--   submitted the relocation form (表2, one row per site; scattered: per township)
-- materialized: table
-- the county's numerator and denominator over its known units, additive across counties, and
-- units_total / units_unknown [issue 12]. Units: the form's rows (centralized sites for
-- relocation_sites_completed and relocation_urban_share) plus its quarantined rows, whose
-- values are unknown; for relocation_clear_zero the county itself, when it has relocation
-- tasks. A unit whose cells are blank is unknown and left out of both sums: a centralized site
-- with a blank planned or completed cell is counted neither as completed nor as a site. Counts
-- of counties are 0/1 per county (clear zero: 1/1 when at clear zero, 0/1 when not, 0/0
-- without tasks). A county cannot be confirmed at clear zero, nor shown not to be, while a
-- unit cell is blank or a relocation row is quarantined: it is then an unknown unit (numerator
-- and denominator NULL; intermediate.int_county_indicators).
-- The indicators counted over rows follow the rule of intermediate.int_county_units; clear zero
-- is stated here.
with counted as (
    select *
    from intermediate.int_county_units
    where form = 'relocation'
),

-- clear zero (清零) is tested on every row, centralized and scattered
all_units as (
    select
        county_code,
        period,
        coalesce(sum(planned_units), 0) as planned,
        coalesce(sum(completed_units), 0) as completed
    from staging.relocation
    group by county_code, period
),

flags as (
    select
        s.county_code,
        s.period,
        coalesce(a.planned, 0) as planned,
        coalesce(a.completed, 0) as completed,
        -- every unit cell known and nothing quarantined
        s.is_complete and c.units_unknown = 0 as units_all_known
    from intermediate.int_county_submissions as s
    inner join counted as c
        on c.county_code = s.county_code
        and c.period = s.period
        and c.indicator_code = 'relocation_units_completion_rate'
    left join all_units as a on a.county_code = s.county_code and a.period = s.period
    where s.form = 'relocation'
),

-- has tasks: TRUE when a known planned cell is above 0, FALSE when every planned cell is
-- known and 0, NULL (unknown) otherwise
tasks as (
    select
        *,
        case
            when planned > 0 then true
            when units_all_known then false
        end as has_tasks
    from flags
)

select *
from counted
union all
select
    county_code,
    period,
    'relocation' as form,
    'relocation_clear_zero' as indicator_code,
    cast(if(has_tasks and units_all_known and completed = planned, 1, 0) as decimal(38, 2))
        as numerator,
    cast(if(has_tasks and units_all_known, 1, 0) as decimal(38, 2)) as denominator,
    cast(if(has_tasks is not false, 1, 0) as bigint) as units_total,
    cast(if(has_tasks is not false and not units_all_known, 1, 0) as bigint) as units_unknown
from tasks
order by county_code, period, indicator_code
