-- grain: one row per household of the household ledger (staging.households, 表9) per county and
--   period
-- materialized: table
-- its exit-standard tests and its Alkire–Foster deprivation score. Exited: exit_year reported
-- and not after the period's year (a later exit year is a planned exit: not exited yet). Exit
-- standard (indicators.md): income_per_capita above the line of the period's year in
-- ref.poverty_lines AND all five guarantees met (food and clothing, compulsory education,
-- basic medical care, housing safety, drinking water). Three-valued logic throughout: where
-- the year has no line (2017, 2018) or the income cell is blank the income test is NULL ("not
-- assessed"); a household with a guarantee not met then still fails the standard (FALSE),
-- otherwise the standard is NULL, never passed. A blank guarantee cell is NULL likewise. The
-- counts of the marts count a test only where it is TRUE (a NULL is not counted).
-- Alkire–Foster (Alkire & Foster 2011): deprived in a dimension = guarantee not met; score c_i
-- = Σ w_j d_ij with the weights of intermediate.int_af_parameters; poor when c_i ≥ k (a
-- tolerance of 1e-9 absorbs floating point, so a score of exactly k is poor). A household with
-- any blank guarantee is not assessable: af_* NULL, out of every AF numerator and denominator.
-- head_id_shared: the household head's pseudonym (head_id_hash) also heads another household
-- of the same period, in this county or another.
-- column period_year: year of the period (its first four characters)
-- column poverty_line_yuan: national poverty line of the period's year (ref.poverty_lines),
--   yuan; NULL where no sourced figure exists
-- column is_exited: exited: exit_year reported and not after the period's year
-- column income_above_line: income_per_capita above the year's poverty line; NULL where the
--   year has no line or the income cell is blank (not assessed)
-- column guarantees_met: all five guarantees met (food and clothing, compulsory education,
--   basic medical care, housing safety, drinking water)
-- column meets_standard: meets the exit standard: income above the line and every guarantee
--   met; NULL where not assessable
-- column meets_standard_not_exited: not exited, yet meeting the exit standard
-- column exited_not_meeting: exited, yet not meeting the exit standard (risk of wrong exit,
--   错退)
-- column lacking_food_clothing: 不愁吃不愁穿 not met
-- column lacking_education: 义务教育有保障 not met
-- column lacking_medical: 基本医疗有保障 not met
-- column lacking_housing: 住房安全有保障 not met
-- column lacking_water: 饮水安全有保障 not met
-- column af_assessable: every guarantee reported, so the Alkire–Foster score can be computed
-- column af_score: Alkire–Foster weighted deprivation score c_i = Σ w_j d_ij (0–1)
-- column af_poor: multidimensionally poor: af_score ≥ k
-- column af_censored_score: af_score where poor, else 0 (the censored score)
-- column head_id_shared: the household head's pseudonym (head_id_hash) also heads another
--   household of the same period
with shared_ids as (
    select period, head_id_hash
    from staging.households
    group by period, head_id_hash
    having count(distinct county_code || chr(31) || household_id) > 1
),

base as (
    select
        h.*,
        cast(left(h.period, 4) as integer) as period_year
    from staging.households as h
),

tested as (
    select
        b.*,
        l.line_yuan as poverty_line_yuan,
        b.exit_year is not null and b.exit_year <= b.period_year as is_exited,
        b.income_per_capita > l.line_yuan as income_above_line,
        b.food_clothing_secure
        and b.education_secured
        and b.medical_secured
        and b.housing_secured
        and b.water_secured as guarantees_met,
        b.food_clothing_secure is not null
        and b.education_secured is not null
        and b.medical_secured is not null
        and b.housing_secured is not null
        and b.water_secured is not null as af_assessable,
        p.k as af_k,
        p.w_food_clothing * cast(not b.food_clothing_secure as integer)
        + p.w_education * cast(not b.education_secured as integer)
        + p.w_medical * cast(not b.medical_secured as integer)
        + p.w_housing * cast(not b.housing_secured as integer)
        + p.w_water * cast(not b.water_secured as integer) as af_score_raw
    from base as b
    cross join intermediate.int_af_parameters as p
    left join ref.poverty_lines as l on l.year = b.period_year
),

scored as (
    select
        *,
        income_above_line and guarantees_met as meets_standard,
        af_score_raw >= af_k - 1e-9 as af_poor
    from tested
)

select
    s.household_id,
    s.head_id_hash,
    s.county_code,
    s.period,
    s.period_year,
    s.township,
    s.village,
    s.village_code,
    s.household_size,
    s.poverty_attribute,
    s.main_cause,
    s.registered_year,
    s.exit_year,
    s.income_per_capita,
    s.poverty_line_yuan,
    s.food_clothing_secure,
    s.education_secured,
    s.medical_secured,
    s.housing_secured,
    s.water_secured,
    s.is_exited,
    s.income_above_line,
    s.guarantees_met,
    s.meets_standard,
    not s.is_exited and s.meets_standard as meets_standard_not_exited,
    s.is_exited and not s.meets_standard as exited_not_meeting,
    not s.food_clothing_secure as lacking_food_clothing,
    not s.education_secured as lacking_education,
    not s.medical_secured as lacking_medical,
    not s.housing_secured as lacking_housing,
    not s.water_secured as lacking_water,
    s.af_assessable,
    -- the score rounded to 12 decimals, so that sums are exact and deterministic
    cast(round(s.af_score_raw, 12) as decimal(18, 12)) as af_score,
    s.af_poor,
    cast(
        case when s.af_poor then round(s.af_score_raw, 12) when not s.af_poor then 0 end
        as decimal(18, 12)
    ) as af_censored_score,
    si.head_id_hash is not null as head_id_shared,
    s.file_sha256,
    s.sheet,
    s.excel_row
from scored as s
left join shared_ids as si on si.period = s.period and si.head_id_hash = s.head_id_hash
order by s.county_code, s.period, s.sheet, s.excel_row
