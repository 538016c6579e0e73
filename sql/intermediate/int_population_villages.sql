-- grain: one row per village (row) of the population form (staging.population, 表1) per county
--   and period
-- materialized: view
-- the form's rows, each with pop_id: a number in the order county, period, file, sheet and row,
-- by which the village matches of intermediate.int_village_matches name it.
-- column pop_id: number of the population-form row (ordered by county, period, file, sheet and
--   row); names the village in intermediate.int_village_matches
select
    *,
    row_number() over (order by county_code, period, file_sha256, sheet, excel_row) as pop_id
from staging.population
