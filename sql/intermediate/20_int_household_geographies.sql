-- one row per ledger household (intermediate.int_households) and geography it counts in,
-- per period: its village (geo_level 'village', geo_code = the 12-digit village_code; a
-- household without a village code has no village row but counts in every higher level),
-- its county, its prefecture and the province (names from ref.counties; the village's name
-- as written in the ledger). The marts group this by (geo_level, geo_code, period), so every
-- level counts the same households: a ratio of sums at every level.
-- materialised: view
with h as (
    select
        h.*,
        c.county_name_zh,
        c.prefecture_code,
        c.prefecture_name_zh
    from intermediate.int_households as h
    inner join ref.counties as c on c.county_code = h.county_code
)

select 'village' as geo_level, village_code as geo_code, village as geo_name_zh, *
from h
where village_code is not null
union all
select 'county', county_code, county_name_zh, *
from h
union all
select 'prefecture', prefecture_code, prefecture_name_zh, *
from h
union all
select 'province', '530000', '云南省', *
from h
