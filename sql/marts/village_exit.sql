-- grain: one row per village (row) of the population form (staging.population, 表1) per county
--   and period
-- materialized: table
-- its exit position by the western 3% rule (indicators.md). poverty_incidence =
-- remaining_persons / total_population as a ratio 0–1 (NULL when either is blank or the
-- population is 0); below_threshold: incidence ≤ 0.03, tested exactly in whole numbers (100 ×
-- remaining ≤ 3 × total, 以下 includes 3%). facilities_complete: where the infrastructure form
-- (表8) of the county and period has the village — matched by village_code, else by township
-- and village name — all seven facilities 是 (FALSE when any is 否, NULL when none is 否 but a
-- cell is blank: not confirmed); NULL where the form does not have the village
-- (infrastructure_reported = false). eligible: below_threshold and, where the form has the
-- village, facilities_complete (three-valued: NULL = cannot be confirmed). The rule is applied
-- to every village; the village exit concerns poverty villages (is_poverty_village).
-- column below_threshold: poverty incidence at or below 3% (ratio ≤ 0.03, no rounding); NULL
--   where the incidence is unknown
-- column facilities_complete: every facility of the infrastructure form in place; NULL where
--   the village is not on an infrastructure form
-- column village: administrative village name as written on the population form
-- column period: reporting period, YYYY-MM
-- column poverty_incidence: poverty incidence as a ratio 0–1 (remaining persons / total
--   population)
-- column eligible: meets the village exit criteria: incidence ≤ 3% and, where the
--   infrastructure form covers the village, every facility; NULL where not assessed
-- column infrastructure_reported: the county's infrastructure form (表8) has the village
-- column total_population: 总人口 of the village (population form)
-- column remaining_persons: 未脱贫人口数 of the village (population form)
with candidates as (
    select pop_id, complete, by_code
    from intermediate.int_village_matches
    where form = 'infrastructure'
),

-- a code match wins; the names are used only when no infrastructure row has the code
chosen as (
    select *
    from candidates
    qualify by_code = max(by_code) over (partition by pop_id)
),

facilities as (
    select
        pop_id,
        case
            when count(*) filter (where complete = false) > 0 then false
            when count(*) filter (where complete is null) > 0 then null
            else true
        end as facilities_complete
    from chosen
    group by pop_id
),

tested as (
    select
        p.*,
        f.pop_id is not null as infrastructure_reported,
        f.facilities_complete,
        case
            when p.total_population > 0
                then cast(p.remaining_persons as double) / p.total_population
        end as incidence,
        case
            when p.total_population > 0 and p.remaining_persons is not null
                then 100 * p.remaining_persons <= 3 * p.total_population
        end as below_threshold
    from intermediate.int_population_villages as p
    left join facilities as f on f.pop_id = p.pop_id
)

select
    county_code,
    village_code,
    village,
    period,
    is_poverty_village,
    incidence as poverty_incidence,
    below_threshold,
    facilities_complete,
    case
        when infrastructure_reported then below_threshold and facilities_complete
        else below_threshold
    end as eligible,
    township,
    total_population,
    remaining_persons,
    infrastructure_reported,
    sheet,
    excel_row
from tested
order by county_code, period, sheet, excel_row
