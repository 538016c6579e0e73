-- ref.indicator_definitions: one row per code, every descriptive field filled, and a
-- denominator exactly when the unit is 'ratio'.
select
    indicator_code,
    count(*) over (partition by indicator_code) as rows_with_code,
    unit,
    denominator
from ref.indicator_definitions
qualify count(*) over (partition by indicator_code) > 1
    or indicator_code is null
    or name_zh is null
    or name_en is null
    or unit is null
    or numerator is null
    or form is null
    or description is null
    or source is null
    or (unit = 'ratio') <> (denominator is not null)
