-- No duplicate (indicator_code, geo_level, geo_code, period) in marts.indicators.
select indicator_code, geo_level, geo_code, period, count(*) as n
from marts.indicators
group by indicator_code, geo_level, geo_code, period
having count(*) > 1
