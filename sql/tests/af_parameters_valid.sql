-- ref.af_parameters has exactly one row, with a cut-off 0 < k ≤ 1 and non-negative weights
-- of positive sum (the models normalise them to sum to 1).
select
    parameter_rows,
    k,
    weight_total,
    w_food_clothing,
    w_education,
    w_medical,
    w_housing,
    w_water
from intermediate.int_af_parameters
where parameter_rows <> 1
    or k is null
    or k <= 0
    or k > 1
    or weight_total is null
    or weight_total <= 0
    or least(w_food_clothing, w_education, w_medical, w_housing, w_water) < 0
