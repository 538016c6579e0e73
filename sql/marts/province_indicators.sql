-- grain: one row per province and period with at least one indicator in marts.indicators
-- materialized: view
-- the value of every indicator code of ref.indicator_definitions as a column (NULL where the
-- form was not submitted or the indicator is not built yet). The column set is fixed;
-- numerators, denominators and units are in marts.indicators. The province rows of
-- marts.wide_indicators.
select * exclude (geo_level)
from marts.wide_indicators
where geo_level = 'province'
order by geo_code, period
