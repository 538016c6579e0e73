-- Exit marts: marts.county_exit never passes a county (eligible NULL, survey criteria
-- 'not assessed') and has one row per county and period that sent the population form;
-- marts.village_exit has one row per row of staging.population; below_threshold agrees
-- with poverty_incidence ≤ 0.03 in both; a village is eligible only below the threshold
-- and with no facility known missing where the infrastructure form has it.
with county_problems as (
    select 'county_exit' as mart, county_code, period, null as village, 'rule' as problem
    from marts.county_exit
    where eligible is not null
        or survey_criteria is distinct from 'not assessed'
        or below_threshold is distinct from (poverty_incidence <= 0.03)
),

county_grain as (
    select
        'county_exit' as mart,
        coalesce(s.county_code, e.county_code) as county_code,
        coalesce(s.period, e.period) as period,
        null as village,
        'grain' as problem
    from (
        select county_code, period
        from intermediate.int_county_submissions
        where form = 'population'
    ) as s
    full outer join (
        select county_code, period, count(*) over (partition by county_code, period) as n
        from marts.county_exit
    ) as e on e.county_code = s.county_code and e.period = s.period
    where s.county_code is null or e.county_code is null or e.n <> 1
),

village_problems as (
    select 'village_exit' as mart, county_code, period, village, 'rule' as problem
    from marts.village_exit
    where below_threshold is distinct from (poverty_incidence <= 0.03)
        or (eligible and not below_threshold)
        or (eligible and infrastructure_reported and facilities_complete is not true)
        or (not infrastructure_reported and facilities_complete is not null)
        or eligible is distinct from (
            below_threshold and (not infrastructure_reported or facilities_complete)
        )
),

village_grain as (
    select 'village_exit' as mart, null as county_code, null as period, null as village,
        'grain' as problem
    where (select count(*) from marts.village_exit)
        <> (select count(*) from staging.population)
)

select * from county_problems
union all
select * from county_grain
union all
select * from village_problems
union all
select * from village_grain
