-- marts.household_causes: one row per (geo_level, geo_code, period, main_cause), and the
-- households over the causes of a geography add up to its households_registered in
-- marts.indicators (for every geography with ledger rows there) with shares summing to 1.
with sums as (
    select
        geo_level,
        geo_code,
        period,
        sum(households) as households,
        sum(share) as share,
        count(*) as n_rows,
        count(distinct coalesce(main_cause, chr(0))) as n_causes
    from marts.household_causes
    group by geo_level, geo_code, period
),

registered as (
    select geo_level, geo_code, period, numerator as households
    from marts.indicators
    where indicator_code = 'households_registered' and numerator > 0
)

select
    coalesce(s.geo_level, r.geo_level) as geo_level,
    coalesce(s.geo_code, r.geo_code) as geo_code,
    coalesce(s.period, r.period) as period,
    s.households as causes_total,
    r.households as households_registered
from sums as s
full outer join registered as r
    on r.geo_level = s.geo_level and r.geo_code = s.geo_code and r.period = s.period
where s.households is distinct from r.households
    or s.n_rows <> s.n_causes
    or abs(s.share - 1) > 1e-9
