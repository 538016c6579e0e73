-- grain: one row per county, period and infrastructure-form indicator, for every county that
--   submitted the infrastructure form (表8, one row per poverty village)
-- materialized: table
-- villages with every facility over villages whose state is known, additive across counties,
-- and units_total / units_unknown [issue 12] (units: the form's villages plus its quarantined
-- rows). A village with a facility 否 is known incomplete; one with every facility 是 is
-- complete; one with a blank cell and no 否 is unknown and counts in neither sum.
with reporting as (
    select county_code, period, rows_quarantined
    from intermediate.int_county_submissions
    where form = 'infrastructure'
),

rows_ as (
    select
        *,
        -- three-valued AND: FALSE when any is 否, NULL when none is 否 but one is blank
        hardened_road
        and power_grid
        and optical_fiber
        and broadband
        and standard_clinic
        and activity_site
        and service_station as complete
    from staging.infrastructure
),

county as (
    select
        r.county_code,
        r.period,
        r.rows_quarantined as q,
        count(i.excel_row) as villages,
        count(i.excel_row) filter (where i.complete is not null) as villages_known,
        count(i.excel_row) filter (where i.complete) as villages_complete
    from reporting as r
    left join rows_ as i on i.county_code = r.county_code and i.period = r.period
    group by r.county_code, r.period, r.rows_quarantined
)

select
    county_code,
    period,
    'infrastructure' as form,
    'infrastructure_complete_rate' as indicator_code,
    cast(villages_complete as decimal(38, 2)) as numerator,
    cast(villages_known as decimal(38, 2)) as denominator,
    cast(villages + q as bigint) as units_total,
    cast(villages - villages_known + q as bigint) as units_unknown
from county
order by county_code, period, indicator_code
