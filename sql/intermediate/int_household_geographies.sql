-- grain: one row per ledger household (intermediate.int_households) and geography it counts
--   in, per period
-- materialized: view
-- its village (geo_level 'village', geo_code = the 12-digit village_code; a household without
-- a village code has no village row but counts in every higher level), its county, its
-- prefecture and the province (ref.geographies; the village's name as written in the ledger).
-- The marts group this by (geo_level, geo_code, period), so every level counts the same
-- households: a ratio of sums at every level.
select 'village' as geo_level, village_code as geo_code, village as geo_name_zh, h.*
from intermediate.int_households as h
where h.village_code is not null
union all
select g.geo_level, g.geo_code, g.geo_name_zh, h.*
from intermediate.int_households as h
inner join ref.geographies as g on g.county_code = h.county_code
