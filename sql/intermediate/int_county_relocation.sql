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
with reporting as (
    select county_code, period, is_complete, rows_quarantined
    from intermediate.int_county_submissions
    where form = 'relocation'
),

rows_ as (
    select
        *,
        resettlement_mode = '集中' as centralized,
        completed_units is not null and planned_units is not null as units_known,
        moved_in_persons is not null and planned_persons is not null as persons_known,
        planned_persons is not null and resettlement_area is not null as area_known
    from staging.relocation
),

county as (
    select
        r.county_code,
        r.period,
        r.is_complete,
        r.rows_quarantined as q,
        count(s.excel_row) as n_rows,
        count(s.excel_row) filter (where s.centralized) as sites,
        count(s.excel_row) filter (where s.centralized and s.units_known) as sites_known,
        count(s.excel_row) filter (
            where s.centralized and s.completed_units = s.planned_units
        ) as sites_completed,
        count(s.excel_row) filter (where not s.units_known) as rows_unit_blank,
        coalesce(sum(s.completed_units) filter (where s.units_known), 0) as units_completed,
        coalesce(sum(s.planned_units) filter (where s.units_known), 0) as units_planned,
        count(s.excel_row) filter (where not s.persons_known) as rows_persons_blank,
        coalesce(sum(s.moved_in_persons) filter (where s.persons_known), 0) as persons_moved_in,
        coalesce(sum(s.planned_persons) filter (where s.persons_known), 0) as persons_planned,
        count(s.excel_row) filter (where s.centralized and not s.area_known) as sites_area_blank,
        coalesce(sum(s.planned_persons) filter (
            where s.centralized and s.area_known and s.resettlement_area = '城镇'
        ), 0) as centralized_urban_persons,
        coalesce(sum(s.planned_persons) filter (
            where s.centralized and s.area_known
        ), 0) as centralized_persons,
        -- clear zero (清零) is tested on every row, centralized and scattered
        coalesce(sum(s.planned_units), 0) as all_planned_units,
        coalesce(sum(s.completed_units), 0) as all_completed_units
    from reporting as r
    left join rows_ as s on s.county_code = r.county_code and s.period = r.period
    group by r.county_code, r.period, r.is_complete, r.rows_quarantined
),

flags as (
    select
        *,
        is_complete and rows_unit_blank = 0 as units_all_known,
        -- has tasks: TRUE when a known planned cell is above 0, FALSE when every planned
        -- cell is known and 0, NULL (unknown) otherwise
        case
            when all_planned_units > 0 then true
            when is_complete and rows_unit_blank = 0 then false
        end as has_tasks
    from county
),

clear_zero as (
    select
        *,
        if(has_tasks is not false, 1, 0) as cz_units,
        if(has_tasks is not false and not units_all_known, 1, 0) as cz_unknown,
        if(has_tasks and units_all_known and all_completed_units = all_planned_units, 1, 0)
            as cz_num,
        if(has_tasks and units_all_known, 1, 0) as cz_den
    from flags
)

select
    f.county_code,
    f.period,
    'relocation' as form,
    v.indicator_code,
    cast(v.numerator as decimal(38, 2)) as numerator,
    cast(v.denominator as decimal(38, 2)) as denominator,
    cast(v.units_total as bigint) as units_total,
    cast(v.units_unknown as bigint) as units_unknown
from clear_zero as f
cross join lateral (
    values
    (
        'relocation_sites_completed',
        f.sites_completed,
        f.sites_known,
        f.sites + f.q,
        f.sites - f.sites_known + f.q
    ),
    (
        'relocation_units_completion_rate',
        f.units_completed,
        f.units_planned,
        f.n_rows + f.q,
        f.rows_unit_blank + f.q
    ),
    (
        'relocation_move_in_rate',
        f.persons_moved_in,
        f.persons_planned,
        f.n_rows + f.q,
        f.rows_persons_blank + f.q
    ),
    (
        'relocation_urban_share',
        f.centralized_urban_persons,
        f.centralized_persons,
        f.sites + f.q,
        f.sites_area_blank + f.q
    ),
    ('relocation_clear_zero', f.cz_num, f.cz_den, f.cz_units, f.cz_unknown)
) as v (indicator_code, numerator, denominator, units_total, units_unknown)
order by f.county_code, f.period, v.indicator_code
