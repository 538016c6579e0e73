-- grain: one row per village of the infrastructure form (a row) or of the household ledger
--   (its households' county, period, township, village and village_code) and each village of
--   the population form of the same county and period it matches
-- materialized: view
-- The one statement of how another form's village finds its population-form village: by
-- village_code, or by township and village name (by_code says which). The readers choose among
-- the candidates: marts.village_exit keeps the code matches when there are any,
-- marts.reconciliation one village per ledger village, a code match first.
-- column form: the form the village is from: infrastructure or households (the ledger)
-- column complete: for an infrastructure village, every facility in place
--   (intermediate.int_infrastructure_villages); NULL for a ledger village
-- column pop_id: the population-form village matched (intermediate.int_population_villages)
-- column by_code: matched by village_code (else by township and village name)
with places as (
    select 'infrastructure' as form, county_code, period, township, village, village_code, complete
    from intermediate.int_infrastructure_villages
    union all
    select distinct 'households', county_code, period, township, village, village_code, null
    from intermediate.int_households
)

select
    pl.*,
    p.pop_id,
    coalesce(pl.village_code = p.village_code, false) as by_code
from places as pl
inner join intermediate.int_population_villages as p
    on p.county_code = pl.county_code
    and p.period = pl.period
    and (
        p.village_code = pl.village_code
        or (p.township = pl.township and p.village = pl.village)
    )
