-- marts.data_quality has exactly one row per county of ref.counties and period of
-- raw.submissions, and its form counts agree with its lists.
with expected as (
    select c.county_code, p.period
    from ref.counties as c
    cross join (select distinct period from raw.submissions) as p
),

actual as (
    select county_code, period, count(*) as n
    from marts.data_quality
    group by county_code, period
),

bad_lists as (
    select county_code, period
    from marts.data_quality
    where forms_received
        <> coalesce(len(string_split(nullif(forms_received_list, ''), ',')), 0)
        or forms_received
        + coalesce(len(string_split(nullif(forms_missing, ''), ',')), 0) <> 9
)

select
    coalesce(e.county_code, a.county_code) as county_code,
    coalesce(e.period, a.period) as period,
    a.n
from expected as e
full outer join actual as a on a.county_code = e.county_code and a.period = e.period
where e.county_code is null or a.county_code is null or a.n <> 1
union all
select county_code, period, null from bad_lists
