-- marts.af_contributions: five dimensions per geography and period; every contribution
-- between 0 and 1; where the adjusted headcount M0 > 0 they sum to 1 (within 1e-9) and
-- M0 agrees with af_adjusted_headcount of marts.indicators; where M0 = 0 they are NULL.
with per_geo as (
    select
        geo_level,
        geo_code,
        period,
        count(*) as dimensions,
        count(distinct dimension) as distinct_dimensions,
        sum(contribution) as total,
        count(contribution) as non_null,
        max(adjusted_headcount) as m0,
        bool_or(contribution < 0 or contribution > 1 + 1e-12) as out_of_range
    from marts.af_contributions
    group by geo_level, geo_code, period
)

select g.*, i.value as indicator_m0
from per_geo as g
left join marts.indicators as i
    on i.indicator_code = 'af_adjusted_headcount'
    and i.geo_level = g.geo_level
    and i.geo_code = g.geo_code
    and i.period = g.period
where g.dimensions <> 5
    or g.distinct_dimensions <> 5
    or g.out_of_range
    or (g.m0 > 0 and (g.non_null <> 5 or abs(g.total - 1) > 1e-9))
    or (coalesce(g.m0, 0) = 0 and g.non_null > 0)
    or abs(coalesce(g.m0, 0) - coalesce(i.value, 0)) > 1e-9
