-- grain: one row per village and period of every county that sent both the household ledger
--   (表9) and the population form (表1) for the period
-- materialized: table
-- registered, exited and remaining households from each source and the differences (ledger −
-- population form). A ledger village (households with the same county, township, village and
-- village_code) is matched to the population form's village of the same county and period by
-- village_code, else — when no village of the form has its code — by township and village name
-- (matched_by). Ledger counts: households, exited (exit_year ≤ the period's year), not exited.
-- status: 'both'; 'population_only' — a village of the form without any ledger household (its
-- ledger counts are 0: the ledger lists every registered household); 'ledger_only' — ledger
-- households whose village is not on the form (form counts NULL). has_difference: any
-- difference ≠ 0 (NULL when a form cell is blank and the others agree); always true for
-- 'ledger_only'. code_matches_county: every village code of the row (form and ledger) starts
-- with the county's code or one of its former codes (ref.county_code_changes); NULL when the
-- row has no code.
-- column county_name_zh: county name in Chinese
-- column period: reporting period, YYYY-MM
-- column township: township as written (population form, else ledger)
-- column village: village as written (population form, else ledger)
-- column village_code: 12-digit village code (population form, else ledger)
-- column status: both, population_only (no ledger household) or ledger_only (village not on
--   the population form)
-- column matched_by: how ledger and form villages were matched: village_code, or township and
--   village name
-- column ledger_registered: ledger households of the village
-- column ledger_exited: ledger households exited (exit_year ≤ the period's year)
-- column ledger_remaining: ledger households not exited
-- column population_registered: 建档立卡贫困户数 on the population form (表1)
-- column population_exited: 已脱贫户数 on the population form
-- column population_remaining: 未脱贫户数 on the population form
-- column diff_registered: ledger_registered − population_registered
-- column diff_exited: ledger_exited − population_exited
-- column diff_remaining: ledger_remaining − population_remaining
-- column has_difference: any difference ≠ 0 (NULL when a form cell is blank and the others
--   agree); always true for ledger_only
-- column code_matches_county: every village code of the row starts with the county's code (or
--   a former code); NULL without a code
with both_forms as (
    select county_code, period
    from intermediate.int_county_submissions
    where form in ('households', 'population')
    group by county_code, period
    having count(distinct form) = 2
),

ledger as (
    select
        h.county_code,
        h.period,
        h.township,
        h.village,
        h.village_code,
        count(*) as registered,
        count(*) filter (where h.is_exited) as exited,
        count(*) filter (where not h.is_exited) as remaining
    from intermediate.int_households as h
    inner join both_forms as b on b.county_code = h.county_code and b.period = h.period
    group by h.county_code, h.period, h.township, h.village, h.village_code
),

ledger_ids as (
    select
        *,
        row_number() over (
            order by county_code, period, township, village, village_code nulls first
        ) as ledger_id
    from ledger
),

pop as (
    select p.*
    from intermediate.int_population_villages as p
    inner join both_forms as b on b.county_code = p.county_code and b.period = p.period
),

candidates as (
    select l.ledger_id, m.pop_id, m.by_code
    from ledger_ids as l
    inner join intermediate.int_village_matches as m
        on m.form = 'households'
        and m.county_code = l.county_code
        and m.period = l.period
        and m.township is not distinct from l.township
        and m.village is not distinct from l.village
        and m.village_code is not distinct from l.village_code
),

-- one population village per ledger village: a code match wins over a name match
chosen as (
    select *
    from candidates
    qualify row_number() over (partition by ledger_id order by by_code desc, pop_id) = 1
),

former_codes as (
    select new_code as county_code, list(old_code order by old_code) as codes
    from ref.county_code_changes
    group by new_code
),

ledger_matched as (
    select
        c.pop_id,
        cast(sum(l.registered) as bigint) as registered,
        cast(sum(l.exited) as bigint) as exited,
        cast(sum(l.remaining) as bigint) as remaining,
        bool_and(c.by_code) as all_by_code,
        list(l.village_code order by l.village_code) filter (where l.village_code is not null)
            as ledger_codes
    from chosen as c
    inner join ledger_ids as l on l.ledger_id = c.ledger_id
    group by c.pop_id
),

rows_ as (
    select
        p.county_code,
        p.period,
        p.township,
        p.village,
        coalesce(p.village_code, m.ledger_codes[1]) as village_code,
        if(m.pop_id is null, 'population_only', 'both') as status,
        case when m.pop_id is not null then if(m.all_by_code, 'code', 'name') end as matched_by,
        coalesce(m.registered, 0) as ledger_registered,
        coalesce(m.exited, 0) as ledger_exited,
        coalesce(m.remaining, 0) as ledger_remaining,
        p.registered_households as population_registered,
        p.exited_households as population_exited,
        p.remaining_households as population_remaining,
        list_concat(
            if(p.village_code is null, [], [p.village_code]), coalesce(m.ledger_codes, [])
        ) as codes
    from pop as p
    left join ledger_matched as m on m.pop_id = p.pop_id
    union all
    select
        l.county_code,
        l.period,
        l.township,
        l.village,
        l.village_code,
        'ledger_only',
        null,
        l.registered,
        l.exited,
        l.remaining,
        null,
        null,
        null,
        if(l.village_code is null, [], [l.village_code])
    from ledger_ids as l
    where not exists (select 1 from candidates as c where c.ledger_id = l.ledger_id)
),

code_checks as (
    select
        r.*,
        list_bool_and(
            list_transform(
                r.codes,
                lambda x: left(x, 6) = r.county_code
                or list_contains(coalesce(f.codes, []), left(x, 6))
            )
        ) as code_matches_county
    from rows_ as r
    left join former_codes as f on f.county_code = r.county_code
)

select
    c.county_code,
    k.county_name_zh,
    c.period,
    c.township,
    c.village,
    c.village_code,
    c.status,
    c.matched_by,
    c.ledger_registered,
    c.ledger_exited,
    c.ledger_remaining,
    c.population_registered,
    c.population_exited,
    c.population_remaining,
    c.ledger_registered - c.population_registered as diff_registered,
    c.ledger_exited - c.population_exited as diff_exited,
    c.ledger_remaining - c.population_remaining as diff_remaining,
    case
        when c.status = 'ledger_only' then true
        else
            c.ledger_registered <> c.population_registered
            or c.ledger_exited <> c.population_exited
            or c.ledger_remaining <> c.population_remaining
    end as has_difference,
    c.code_matches_county
from code_checks as c
inner join ref.counties as k on k.county_code = c.county_code
order by
    c.county_code,
    c.period,
    c.township,
    c.village,
    c.village_code,
    c.status
