-- grain: one row per village (row) of the infrastructure form (staging.infrastructure, 表8) per
--   county and period
-- materialized: view
-- the form's rows and whether the village has every facility, three-valued: FALSE when any facility is 否, TRUE when
-- all seven are 是, NULL (unknown) when none is 否 but a cell is blank. Read by the
-- infrastructure indicator (intermediate.int_county_units) and the village exit
-- (marts.village_exit).
-- column complete: every facility in place (hardened road, power grid, optical fibre,
--   broadband, standard clinic, activity site, service station); NULL when none is 否 but a
--   cell is blank
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
