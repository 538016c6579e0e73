-- one row per geography (village, county, prefecture, province), period and ledger
-- indicator (households_*, af_*; indicators.md): numerator and denominator, additive.
-- County rows for every county that submitted the household ledger (表9); prefecture and
-- province rows are the sums of their counties' (a ratio of sums); village rows (geo_code
-- = the 12-digit village_code) count the ledger households with that code.
-- Counts count the households for which a test is TRUE (a NULL test is not counted; see
-- intermediate.int_households). households_meeting_standard_not_exited needs the income
-- test: where the period's year has no line in ref.poverty_lines its numerator is NULL
-- (not assessed), never 0. households_exited_not_meeting then counts the exited households
-- with a guarantee not met, the only ones known to fail the standard.
-- Alkire–Foster over the households with all five guarantees reported: n = such
-- households, q = the poor among them, Σ c_i(k) = their censored scores (exact decimals):
-- H = q / n, A = Σ c_i(k) / q, M0 = Σ c_i(k) / n = H × A.
-- A ledger sent with no data row gives 0, or NULL counts when rows of it were quarantined.
-- Kept apart from intermediate.int_county_indicators (DECIMAL(38, 2)) so that the score
-- sums keep their 12 decimals.
with lines as (
    select distinct
        s.period,
        l.line_yuan is null as line_missing
    from intermediate.int_county_submissions as s
    left join ref.poverty_lines as l on l.year = cast(left(s.period, 4) as integer)
    where s.form = 'households'
),

agg as (
    select
        geo_level,
        geo_code,
        period,
        min(geo_name_zh) as geo_name_zh,
        count(*) as n_rows,
        count(*) filter (where not is_exited) as not_exited,
        count(*) filter (where is_exited) as exited,
        count(*) filter (where lacking_food_clothing) as lacking_food_clothing,
        count(*) filter (where lacking_education) as lacking_education,
        count(*) filter (where lacking_medical) as lacking_medical,
        count(*) filter (where lacking_housing) as lacking_housing,
        count(*) filter (where lacking_water) as lacking_water,
        count(*) filter (where meets_standard_not_exited) as meeting_not_exited,
        count(*) filter (where exited_not_meeting) as exited_not_meeting,
        count(*) filter (where af_assessable) as af_n,
        count(*) filter (where af_poor) as af_q,
        coalesce(sum(af_censored_score) filter (where af_assessable), 0) as af_score_sum
    from intermediate.int_household_geographies
    where geo_level in ('village', 'county')
    group by geo_level, geo_code, period
),

county as (
    select
        'county' as geo_level,
        r.county_code as geo_code,
        r.county_name_zh as geo_name_zh,
        r.period,
        r.is_complete,
        coalesce(a.n_rows, 0) as n_rows,
        coalesce(a.not_exited, 0) as not_exited,
        coalesce(a.exited, 0) as exited,
        coalesce(a.lacking_food_clothing, 0) as lacking_food_clothing,
        coalesce(a.lacking_education, 0) as lacking_education,
        coalesce(a.lacking_medical, 0) as lacking_medical,
        coalesce(a.lacking_housing, 0) as lacking_housing,
        coalesce(a.lacking_water, 0) as lacking_water,
        coalesce(a.meeting_not_exited, 0) as meeting_not_exited,
        coalesce(a.exited_not_meeting, 0) as exited_not_meeting,
        coalesce(a.af_n, 0) as af_n,
        coalesce(a.af_q, 0) as af_q,
        coalesce(a.af_score_sum, 0) as af_score_sum
    from intermediate.int_county_submissions as r
    left join agg as a
        on a.geo_level = 'county' and a.geo_code = r.county_code and a.period = r.period
    where r.form = 'households'
),

village as (
    select
        geo_level,
        geo_code,
        geo_name_zh,
        period,
        true as is_complete,
        n_rows,
        not_exited,
        exited,
        lacking_food_clothing,
        lacking_education,
        lacking_medical,
        lacking_housing,
        lacking_water,
        meeting_not_exited,
        exited_not_meeting,
        af_n,
        af_q,
        af_score_sum
    from agg
    where geo_level = 'village'
),

lower_levels as (
    select * from county
    union all
    select * from village
),

facts as (
    select
        g.geo_level,
        g.geo_code,
        g.geo_name_zh,
        g.period,
        v.indicator_code,
        v.numerator,
        v.denominator
    from lower_levels as g
    inner join lines as l on l.period = g.period
    cross join lateral (
        values
        (
            'households_registered',
            if(g.n_rows = 0 and not g.is_complete, null, g.n_rows),
            null
        ),
        (
            'households_not_exited',
            if(g.n_rows = 0 and not g.is_complete, null, g.not_exited),
            null
        ),
        ('households_lacking_food_clothing', g.lacking_food_clothing, g.n_rows),
        ('households_lacking_education', g.lacking_education, g.n_rows),
        ('households_lacking_medical', g.lacking_medical, g.n_rows),
        ('households_lacking_housing', g.lacking_housing, g.n_rows),
        ('households_lacking_water', g.lacking_water, g.n_rows),
        (
            'households_meeting_standard_not_exited',
            if(l.line_missing, null, g.meeting_not_exited),
            g.not_exited
        ),
        ('households_exited_not_meeting', g.exited_not_meeting, g.exited),
        ('af_headcount_ratio', g.af_q, g.af_n),
        ('af_intensity', g.af_score_sum, g.af_q),
        ('af_adjusted_headcount', g.af_score_sum, g.af_n)
    ) as v (indicator_code, numerator, denominator)
),

typed as (
    select
        geo_level,
        geo_code,
        geo_name_zh,
        period,
        indicator_code,
        cast(numerator as decimal(38, 12)) as numerator,
        cast(denominator as decimal(38, 12)) as denominator
    from facts
),

upper_levels as (
    select
        t.indicator_code,
        'prefecture' as geo_level,
        c.prefecture_code as geo_code,
        c.prefecture_name_zh as geo_name_zh,
        t.period,
        sum(t.numerator) as numerator,
        sum(t.denominator) as denominator
    from typed as t
    inner join ref.counties as c on c.county_code = t.geo_code
    where t.geo_level = 'county'
    group by t.indicator_code, c.prefecture_code, c.prefecture_name_zh, t.period
    union all
    select
        indicator_code,
        'province',
        '530000',
        '云南省',
        period,
        sum(numerator),
        sum(denominator)
    from typed
    where geo_level = 'county'
    group by indicator_code, period
)

select indicator_code, geo_level, geo_code, geo_name_zh, period, numerator, denominator
from typed
union all by name
select indicator_code, geo_level, geo_code, geo_name_zh, period, numerator, denominator
from upper_levels
order by
    indicator_code,
    case geo_level when 'village' then 0 when 'county' then 1 when 'prefecture' then 2 else 3 end,
    geo_code,
    period
