-- grain: one row per county, period and indicator counted over the rows of a form (every
--   indicator of intermediate.int_county_<form> but relocation_clear_zero and
--   water_zero_counties, whose unit is the county), for every county that submitted the form
-- materialized: table
-- The one statement of the unknown-units rule [issue 12] for the forms' indicators. Each form
-- row says, per indicator of its form (ref.indicator_definitions), whether it is one of the
-- indicator's units (in_units: e.g. only centralized sites, only poverty villages), its share
-- of the numerator and the denominator, and whether its cells are known (known; by default:
-- the numerator is reported and, for a ratio, the denominator — a sum of cells is NULL when
-- one of them is blank). Per county: units_total = the form's rows that are units plus its
-- quarantined rows (their values are unknown); units_unknown = the units not known plus the
-- quarantined rows; numerator and denominator = sums over the known units only (0 when none;
-- denominator NULL for a plain count). A county that sent the form with no rows has 0 units.
with unit_rows as (
    select r.county_code, r.period, r.form, x.excel_row, d.denominator is null as is_count, v.*
    from intermediate.int_county_submissions as r
    left join intermediate.int_form_rows as x using (county_code, period, form)
    cross join lateral (
        values
        ('registered_persons', true, x.registered_persons, null, null),
        ('remaining_persons', true, x.remaining_persons, null, null),
        ('poverty_incidence', true, x.remaining_persons, x.total_population, null),
        (
            -- incidence above 3%, in whole numbers: remaining / total > 3 / 100 (total 0: no)
            'poverty_villages_remaining',
            x.is_poverty_village,
            cast(x.total_population <> 0 and 100 * x.remaining_persons > 3 * x.total_population
                as int),
            null,
            null
        ),
        (
            -- a centralized site is completed when its completed units equal its planned units
            'relocation_sites_completed',
            x.resettlement_mode = '集中',
            cast(x.completed_units = x.planned_units as int),
            1,
            x.completed_units is not null and x.planned_units is not null
        ),
        ('relocation_units_completion_rate', true, x.completed_units, x.planned_units, null),
        ('relocation_move_in_rate', true, x.moved_in_persons, x.planned_persons, null),
        (
            'relocation_urban_share',
            x.resettlement_mode = '集中',
            if(x.resettlement_area = '城镇', x.planned_persons, 0),
            x.planned_persons,
            x.planned_persons is not null and x.resettlement_area is not null
        ),
        (
            -- the four key categories: a row counts only when all eight cells are reported
            'housing_key_completion_rate',
            true,
            x.registered_completed + x.subsistence_completed
            + x.extreme_poor_completed + x.disabled_completed,
            x.registered_planned + x.subsistence_planned
            + x.extreme_poor_planned + x.disabled_planned,
            null
        ),
        ('housing_other_completion_rate', true, x.other_completed, x.other_planned, null),
        ('medical_basic_coverage', true, x.basic_insured_persons, x.registered_persons, null),
        (
            'medical_serious_illness_coverage',
            true,
            x.serious_illness_insured_persons,
            x.registered_persons,
            null
        ),
        ('medical_reimbursement_rate', true, x.inpatient_reimbursed, x.inpatient_expense, null),
        ('water_unsafe_households', true, x.unsafe_households_end, null, null),
        ('water_resolved_households', true, x.resolved_households, null, null),
        ('education_dropouts_remaining', true, x.dropouts_remaining, null, null),
        ('education_return_rate', true, x.dropouts_returned, x.dropouts_identified, null),
        ('employment_migrant_employed', true, x.migrant_employed, null, null),
        ('employment_workshops', true, x.workshops, null, null),
        ('employment_workshop_employed', true, x.workshop_employed, null, null),
        ('employment_public_welfare_jobs', true, x.public_welfare_jobs, null, null),
        ('employment_ecological_rangers', true, x.ecological_rangers, null, null),
        ('infrastructure_complete_rate', true, cast(x.complete as int), 1, null)
    ) as v (indicator_code, in_units, numerator, denominator, known)
    inner join ref.indicator_definitions as d
        on d.indicator_code = v.indicator_code and d.form = r.form
),

judged as (
    select
        *,
        coalesce(
            cast(known as boolean),
            numerator is not null and (is_count or denominator is not null)
        ) as is_known
    from unit_rows
),

county as (
    select
        county_code,
        period,
        form,
        indicator_code,
        is_count,
        count(excel_row) filter (where in_units) as units,
        count(excel_row) filter (where in_units and not is_known) as blank,
        coalesce(sum(numerator) filter (where in_units and is_known), 0) as numerator,
        coalesce(sum(denominator) filter (where in_units and is_known), 0) as denominator
    from judged
    group by county_code, period, form, indicator_code, is_count
)

select
    c.county_code,
    c.period,
    c.form,
    c.indicator_code,
    cast(c.numerator as decimal(38, 2)) as numerator,
    cast(if(c.is_count, null, c.denominator) as decimal(38, 2)) as denominator,
    cast(c.units + s.rows_quarantined as bigint) as units_total,
    cast(c.blank + s.rows_quarantined as bigint) as units_unknown
from county as c
inner join intermediate.int_county_submissions as s
    on s.county_code = c.county_code and s.period = c.period and s.form = c.form
order by c.form, c.county_code, c.period, c.indicator_code
