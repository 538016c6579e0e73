-- one row per county and period with at least one indicator in marts.indicators: the
-- value of every indicator code of ref.indicator_definitions as a column (NULL where the
-- form was not submitted or the indicator is not built yet). The column set is fixed;
-- numerators, denominators and units are in marts.indicators.
select
    geo_code,
    geo_name_zh,
    period,
    max(value) filter (where indicator_code = 'registered_persons') as registered_persons,
    max(value) filter (where indicator_code = 'remaining_persons') as remaining_persons,
    max(value) filter (where indicator_code = 'poverty_incidence') as poverty_incidence,
    max(value) filter (where indicator_code = 'poverty_villages_remaining') as poverty_villages_remaining,
    max(value) filter (where indicator_code = 'relocation_sites_completed') as relocation_sites_completed,
    max(value) filter (where indicator_code = 'relocation_units_completion_rate') as relocation_units_completion_rate,
    max(value) filter (where indicator_code = 'relocation_move_in_rate') as relocation_move_in_rate,
    max(value) filter (where indicator_code = 'relocation_urban_share') as relocation_urban_share,
    max(value) filter (where indicator_code = 'relocation_clear_zero') as relocation_clear_zero,
    max(value) filter (where indicator_code = 'housing_key_completion_rate') as housing_key_completion_rate,
    max(value) filter (where indicator_code = 'housing_other_completion_rate') as housing_other_completion_rate,
    max(value) filter (where indicator_code = 'medical_basic_coverage') as medical_basic_coverage,
    max(value) filter (where indicator_code = 'medical_serious_illness_coverage') as medical_serious_illness_coverage,
    max(value) filter (where indicator_code = 'medical_reimbursement_rate') as medical_reimbursement_rate,
    max(value) filter (where indicator_code = 'water_unsafe_households') as water_unsafe_households,
    max(value) filter (where indicator_code = 'water_resolved_households') as water_resolved_households,
    max(value) filter (where indicator_code = 'water_zero_counties') as water_zero_counties,
    max(value) filter (where indicator_code = 'education_dropouts_remaining') as education_dropouts_remaining,
    max(value) filter (where indicator_code = 'education_return_rate') as education_return_rate,
    max(value) filter (where indicator_code = 'employment_migrant_employed') as employment_migrant_employed,
    max(value) filter (where indicator_code = 'employment_workshops') as employment_workshops,
    max(value) filter (where indicator_code = 'employment_workshop_employed') as employment_workshop_employed,
    max(value) filter (where indicator_code = 'employment_public_welfare_jobs') as employment_public_welfare_jobs,
    max(value) filter (where indicator_code = 'employment_ecological_rangers') as employment_ecological_rangers,
    max(value) filter (where indicator_code = 'infrastructure_complete_rate') as infrastructure_complete_rate,
    max(value) filter (where indicator_code = 'households_registered') as households_registered,
    max(value) filter (where indicator_code = 'households_not_exited') as households_not_exited,
    max(value) filter (where indicator_code = 'households_lacking_food_clothing') as households_lacking_food_clothing,
    max(value) filter (where indicator_code = 'households_lacking_education') as households_lacking_education,
    max(value) filter (where indicator_code = 'households_lacking_medical') as households_lacking_medical,
    max(value) filter (where indicator_code = 'households_lacking_housing') as households_lacking_housing,
    max(value) filter (where indicator_code = 'households_lacking_water') as households_lacking_water,
    max(value) filter (where indicator_code = 'households_meeting_standard_not_exited') as households_meeting_standard_not_exited,
    max(value) filter (where indicator_code = 'af_headcount_ratio') as af_headcount_ratio,
    max(value) filter (where indicator_code = 'af_intensity') as af_intensity,
    max(value) filter (where indicator_code = 'af_adjusted_headcount') as af_adjusted_headcount,
    max(value) filter (where indicator_code = 'households_exited_not_meeting') as households_exited_not_meeting
from marts.indicators
where geo_level = 'county'
group by geo_code, geo_name_zh, period
order by geo_code, period
