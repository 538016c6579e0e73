-- Every indicator code in marts.indicators is defined in ref.indicator_definitions
-- with a unit, and its rows carry that unit.
select i.indicator_code, i.unit, d.unit as defined_unit, count(*) as n
from marts.indicators as i
left join ref.indicator_definitions as d on d.indicator_code = i.indicator_code
where d.indicator_code is null
    or d.unit is null
    or i.unit is distinct from d.unit
group by i.indicator_code, i.unit, d.unit
