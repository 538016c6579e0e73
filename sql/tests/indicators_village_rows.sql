-- Village rows of marts.indicators are ledger indicators only (households_*, af_*), with a
-- 12-digit village code as geo_code.
select indicator_code, geo_code, period
from marts.indicators
where geo_level = 'village'
    and (
        not regexp_full_match(geo_code, '\d{12}')
        or not (indicator_code like 'households\_%' escape '\'
            or indicator_code like 'af\_%' escape '\')
    )
