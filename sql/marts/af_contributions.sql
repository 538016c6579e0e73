-- grain: one row per geography (village, county, prefecture, province), period and
--   Alkire–Foster dimension (food_clothing, education, medical, housing, water) of the
--   household ledger
-- materialized: table
-- the dimension's contribution to the adjusted headcount M0, contribution_j = w_j × (poor
-- households deprived in j) / n / M0, so the five sum to 1 where M0 > 0 (NULL where M0 = 0 or
-- no household is assessable). weight is the normalised weight in use
-- (intermediate.int_af_parameters); censored_headcount_ratio = poor households deprived in j /
-- n. n counts the households with all five guarantees reported, as in marts.indicators (af_*).
-- Alkire & Foster (2011); OPHI/UNDP global MPI methodology.
-- column dimension: Alkire–Foster dimension: food_clothing, education, medical, housing or
--   water
-- column contribution: share of the adjusted headcount ratio M0 due to this dimension (0–1)
-- column period: reporting period, YYYY-MM
-- column weight: normalised weight of the dimension (intermediate.int_af_parameters)
-- column poor_deprived_households: poor households deprived in this dimension
-- column households_assessed: households with all five guarantees reported (n)
-- column poor_households: multidimensionally poor households
-- column censored_headcount_ratio: poor households deprived in the dimension / n
-- column adjusted_headcount: adjusted headcount ratio M0 of the geography
with geo as (
    select
        geo_level,
        geo_code,
        period,
        min(geo_name_zh) as geo_name_zh,
        count(*) filter (where af_assessable) as n,
        count(*) filter (where af_poor) as q,
        count(*) filter (where af_poor and lacking_food_clothing) as poor_food_clothing,
        count(*) filter (where af_poor and lacking_education) as poor_education,
        count(*) filter (where af_poor and lacking_medical) as poor_medical,
        count(*) filter (where af_poor and lacking_housing) as poor_housing,
        count(*) filter (where af_poor and lacking_water) as poor_water
    from intermediate.int_household_geographies
    group by geo_level, geo_code, period
),

dims as (
    select
        g.geo_level,
        g.geo_code,
        g.geo_name_zh,
        g.period,
        g.n,
        g.q,
        d.ord,
        d.dimension,
        d.weight,
        d.poor_deprived,
        -- Σ_j w_j × (poor deprived in j) = Σ c_i(k) over the poor = n × M0, summed in
        -- this fixed order (a window sum of doubles would differ in its last bits from
        -- one build to the next)
        p.w_food_clothing * g.poor_food_clothing
        + p.w_education * g.poor_education
        + p.w_medical * g.poor_medical
        + p.w_housing * g.poor_housing
        + p.w_water * g.poor_water as censored_score_sum
    from geo as g
    cross join intermediate.int_af_parameters as p
    cross join lateral (
        values
        (1, 'food_clothing', p.w_food_clothing, g.poor_food_clothing),
        (2, 'education', p.w_education, g.poor_education),
        (3, 'medical', p.w_medical, g.poor_medical),
        (4, 'housing', p.w_housing, g.poor_housing),
        (5, 'water', p.w_water, g.poor_water)
    ) as d (ord, dimension, weight, poor_deprived)
)

select
    geo_level,
    geo_code,
    period,
    dimension,
    weight * poor_deprived / nullif(censored_score_sum, 0) as contribution,
    geo_name_zh,
    weight,
    poor_deprived as poor_deprived_households,
    n as households_assessed,
    q as poor_households,
    cast(poor_deprived as double) / nullif(n, 0) as censored_headcount_ratio,
    censored_score_sum / nullif(n, 0) as adjusted_headcount
from dims
order by
    case geo_level when 'village' then 0 when 'county' then 1 when 'prefecture' then 2 else 3 end,
    geo_code,
    period,
    ord
