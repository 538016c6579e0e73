-- one row per county, period and relocation-form indicator, for every county that
-- submitted the relocation form (表2, one row per site; scattered: per township): the
-- county's numerator and denominator, additive across counties. Counts of counties are
-- 0/1 per county (clear zero: 1/1 when at clear zero, 0/1 when not, 0/0 without tasks).
-- A blank (NULL) cell: a ratio leaves the row out of both its sums; a centralized site
-- with a blank planned or completed cell counts as a site but not as completed; a county
-- with a blank unit cell or a quarantined relocation row cannot be confirmed at clear zero.
with reporting as (
    select county_code, period, is_complete
    from intermediate.int_county_submissions
    where form = 'relocation'
),

county as (
    select
        r.county_code,
        r.period,
        r.is_complete,
        count(s.excel_row) filter (where s.resettlement_mode = '集中') as sites,
        count(s.excel_row) filter (
            where s.resettlement_mode = '集中' and s.completed_units = s.planned_units
        ) as sites_completed,
        coalesce(sum(s.completed_units) filter (
            where s.completed_units is not null and s.planned_units is not null
        ), 0) as units_completed,
        coalesce(sum(s.planned_units) filter (
            where s.completed_units is not null and s.planned_units is not null
        ), 0) as units_planned,
        coalesce(sum(s.moved_in_persons) filter (
            where s.moved_in_persons is not null and s.planned_persons is not null
        ), 0) as persons_moved_in,
        coalesce(sum(s.planned_persons) filter (
            where s.moved_in_persons is not null and s.planned_persons is not null
        ), 0) as persons_planned,
        coalesce(sum(s.planned_persons) filter (
            where s.resettlement_mode = '集中' and s.resettlement_area = '城镇'
        ), 0) as centralized_urban_persons,
        coalesce(sum(s.planned_persons) filter (
            where s.resettlement_mode = '集中'
        ), 0) as centralized_persons,
        -- clear zero (清零) is tested on every row, centralized and scattered
        coalesce(sum(s.planned_units), 0) as all_planned_units,
        coalesce(sum(s.completed_units), 0) as all_completed_units,
        count(s.excel_row) filter (
            where s.planned_units is null or s.completed_units is null
        ) as rows_unit_blank
    from reporting as r
    left join staging.relocation as s on s.county_code = r.county_code and s.period = r.period
    group by r.county_code, r.period, r.is_complete
),

flags as (
    select
        *,
        all_planned_units > 0 as has_tasks,
        all_planned_units > 0
        and all_completed_units = all_planned_units
        and rows_unit_blank = 0
        and is_complete as at_clear_zero
    from county
),

facts as (
    select
        f.county_code,
        f.period,
        v.indicator_code,
        v.numerator,
        v.denominator
    from flags as f
    cross join lateral (
        values
        ('relocation_sites_completed', f.sites_completed, f.sites),
        ('relocation_units_completion_rate', f.units_completed, f.units_planned),
        ('relocation_move_in_rate', f.persons_moved_in, f.persons_planned),
        ('relocation_urban_share', f.centralized_urban_persons, f.centralized_persons),
        (
            'relocation_clear_zero',
            if(f.at_clear_zero, 1, 0),
            if(f.has_tasks, 1, 0)
        )
    ) as v (indicator_code, numerator, denominator)
)

select
    county_code,
    period,
    'relocation' as form,
    indicator_code,
    cast(numerator as decimal(38, 2)) as numerator,
    cast(denominator as decimal(38, 2)) as denominator
from facts
order by county_code, period, indicator_code
