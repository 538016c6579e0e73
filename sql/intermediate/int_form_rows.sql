-- grain: one row per data row of the current submission of every form with county indicators
--   (staging.<form>; all but the household ledger), per county and period
-- materialized: view
-- the staged rows of the forms side by side (union by name: a column a form lacks is NULL),
-- tagged with their form, so that intermediate.int_county_units states each indicator's units
-- once for every form. Infrastructure rows carry their facilities' state (complete,
-- intermediate.int_infrastructure_villages).
-- column form: the form the row was staged from (ref.forms)
select 'population' as form, * from staging.population
union all by name select 'relocation' as form, * from staging.relocation
union all by name select 'housing' as form, * from staging.housing
union all by name select 'medical' as form, * from staging.medical
union all by name select 'water' as form, * from staging.water
union all by name select 'education' as form, * from staging.education
union all by name select 'employment' as form, * from staging.employment
union all by name select 'infrastructure' as form, * from intermediate.int_infrastructure_villages
