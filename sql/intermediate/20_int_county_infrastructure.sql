-- one row per county, period and infrastructure-form indicator, for every county that
-- submitted the infrastructure form (表8, one row per poverty village): villages with
-- every facility over villages, additive across counties. A blank (NULL) cell is not
-- 是: the village counts in the denominator only.
with reporting as (
    select county_code, period
    from intermediate.int_county_submissions
    where form = 'infrastructure'
),

county as (
    select
        r.county_code,
        r.period,
        count(i.excel_row) as villages,
        count(i.excel_row) filter (
            where i.hardened_road
            and i.power_grid
            and i.optical_fiber
            and i.broadband
            and i.standard_clinic
            and i.activity_site
            and i.service_station
        ) as villages_complete
    from reporting as r
    left join staging.infrastructure as i
        on i.county_code = r.county_code and i.period = r.period
    group by r.county_code, r.period
)

select
    county_code,
    period,
    'infrastructure' as form,
    'infrastructure_complete_rate' as indicator_code,
    cast(villages_complete as decimal(38, 2)) as numerator,
    cast(villages as decimal(38, 2)) as denominator
from county
order by county_code, period, indicator_code
