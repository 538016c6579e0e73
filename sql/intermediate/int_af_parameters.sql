-- grain: one row per build (always exactly one)
-- materialized: table
-- the Alkire–Foster parameters in use, from the one-row ref.af_parameters
-- (pipeline/reference/af_parameters.csv): poverty cut-off k and the weight of each of the five
-- ledger dimensions, normalised to sum to 1 (w_j / Σ w). A join with it never drops or
-- duplicates households; parameter_rows counts the rows of ref.af_parameters (the data test
-- af_parameters_valid requires exactly 1).
-- column k: Alkire–Foster poverty cut-off (ref.af_parameters.k): a household is poor when
--   its weighted deprivation score reaches k
-- column parameter_rows: rows of ref.af_parameters (exactly 1 expected)
-- column weight_total: sum of the five weights before normalising
-- column w_food_clothing: Alkire–Foster weight of the food and clothing dimension, normalised
--   so that the five sum to 1
-- column w_education: Alkire–Foster weight of the compulsory education dimension, normalised
--   so that the five sum to 1
-- column w_medical: Alkire–Foster weight of the basic medical care dimension, normalised so
--   that the five sum to 1
-- column w_housing: Alkire–Foster weight of the housing safety dimension, normalised so that
--   the five sum to 1
-- column w_water: Alkire–Foster weight of the drinking water dimension, normalised so that the
--   five sum to 1
with p as (
    select
        count(*) as parameter_rows,
        min(k) as k,
        min(w_food_clothing) as w_food_clothing,
        min(w_education) as w_education,
        min(w_medical) as w_medical,
        min(w_housing) as w_housing,
        min(w_water) as w_water
    from ref.af_parameters
)
,

totalled as (
    select *, w_food_clothing + w_education + w_medical + w_housing + w_water as total
    from p
)

select
    parameter_rows,
    cast(k as double) as k,
    cast(total as double) as weight_total,
    cast(w_food_clothing as double) / nullif(total, 0) as w_food_clothing,
    cast(w_education as double) / nullif(total, 0) as w_education,
    cast(w_medical as double) / nullif(total, 0) as w_medical,
    cast(w_housing as double) / nullif(total, 0) as w_housing,
    cast(w_water as double) / nullif(total, 0) as w_water
from totalled
