-- marts.reconciliation: differences are ledger − population form; ledger remaining =
-- registered − exited; the ledger households of a county's rows add up to its
-- households_registered; and marts.data_quality's reconciliation columns count these rows.
with row_problems as (
    select county_code, period, village, 'row' as problem
    from marts.reconciliation
    where diff_registered is distinct from ledger_registered - population_registered
        or diff_exited is distinct from ledger_exited - population_exited
        or diff_remaining is distinct from ledger_remaining - population_remaining
        or ledger_remaining <> ledger_registered - ledger_exited
        or status not in ('both', 'population_only', 'ledger_only')
        or (status = 'ledger_only' and population_registered is not null)
),

county_totals as (
    select r.county_code, r.period, 'ledger total' as problem
    from (
        select county_code, period, sum(ledger_registered) as households
        from marts.reconciliation
        group by county_code, period
    ) as r
    left join marts.indicators as i
        on i.indicator_code = 'households_registered'
        and i.geo_level = 'county'
        and i.geo_code = r.county_code
        and i.period = r.period
    where i.numerator is not null and r.households <> i.numerator
),

dq as (
    select d.county_code, d.period, 'data_quality' as problem
    from marts.data_quality as d
    left join (
        select
            county_code,
            period,
            count(*) filter (where status = 'both' and has_difference) as differences,
            count(*) filter (where status = 'ledger_only') as ledger_only,
            count(*) filter (where status = 'population_only' and has_difference)
                as population_only
        from marts.reconciliation
        group by county_code, period
    ) as r on r.county_code = d.county_code and r.period = d.period
    where coalesce(r.differences, 0) <> coalesce(d.reconciliation_differences, 0)
        or coalesce(r.ledger_only, 0) <> coalesce(d.ledger_villages_missing_from_population, 0)
        or coalesce(r.population_only, 0)
        <> coalesce(d.population_villages_missing_from_ledger, 0)
)

select county_code, period, village, problem from row_problems
union all
select county_code, period, null, problem from county_totals
union all
select county_code, period, null, problem from dq
