-- grain: one row per geography (village, county, prefecture, province), period and ledger
--   indicator (households_*, af_*; indicators.md)
-- materialized: table
-- numerator and denominator over the known households, additive, with units_total and
-- units_unknown [issue 12]. County rows for every county that submitted the household ledger
-- (表9); prefecture and province rows are the sums of their counties' (a ratio of sums);
-- village rows (geo_code = the 12-digit village_code) count the ledger households with that
-- code. Units are households: those the indicator counts over (all of them; the not exited for
-- households_meeting_standard_not_exited; the exited for households_exited_not_meeting), plus,
-- at county level, the ledger's quarantined rows. A household is unknown when its test is NULL
-- (see intermediate.int_households): a blank guarantee for households_lacking_* and the AF
-- measures, a standard that cannot be decided for the two exit-standard counts. A count counts
-- the households whose test is TRUE over those whose test is known; unknown households are in
-- neither. The exit standard needs the income test: where the period's year has no line in
-- ref.poverty_lines it is not assessed, and both exit-standard indicators are NULL with every
-- unit unknown, never 0. Alkire–Foster over the households with all five guarantees reported:
-- n = such households, q = the poor among them, Σ c_i(k) = their censored scores (exact
-- decimals): H = q / n, A = Σ c_i(k) / q, M0 = Σ c_i(k) / n = H × A. Numerator and denominator
-- are NULL when every unit is unknown, or when the ledger loaded no row and something of it
-- did not load; a ledger sent with no data row gives 0. Kept apart from
-- intermediate.int_county_indicators (DECIMAL(38, 2)) so that the score sums keep their 12
-- decimals.
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
        count(*) filter (where meets_standard_not_exited) as meeting_not_exited,
        count(*) filter (where not is_exited and meets_standard is null) as meeting_unknown,
        count(*) filter (where exited_not_meeting) as exited_not_meeting,
        count(*) filter (where is_exited and meets_standard is null) as exited_unknown,
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
        r.rows_quarantined as q,
        coalesce(a.meeting_not_exited, 0) as meeting_not_exited,
        coalesce(a.meeting_unknown, 0) as meeting_unknown,
        coalesce(a.exited_not_meeting, 0) as exited_not_meeting,
        coalesce(a.exited_unknown, 0) as exited_unknown,
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
        0 as q,
        meeting_not_exited,
        meeting_unknown,
        exited_not_meeting,
        exited_unknown,
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

-- the five guarantees, one row per household and guarantee: lacking TRUE, FALSE, or NULL when
-- the cell is blank (unknown)
guarantees as (
    select
        h.geo_level,
        h.geo_code,
        h.period,
        v.indicator_code,
        count(*) filter (where v.lacking) as lacking,
        count(*) filter (where v.lacking is null) as blank
    from intermediate.int_household_geographies as h
    cross join lateral (
        values
        ('households_lacking_food_clothing', h.lacking_food_clothing),
        ('households_lacking_education', h.lacking_education),
        ('households_lacking_medical', h.lacking_medical),
        ('households_lacking_housing', h.lacking_housing),
        ('households_lacking_water', h.lacking_water)
    ) as v (indicator_code, lacking)
    where h.geo_level in ('village', 'county')
    group by h.geo_level, h.geo_code, h.period, v.indicator_code
),

-- per geography: each indicator's numerator, denominator and units among the loaded households
measures as (
    select g.geo_level, g.geo_code, g.period, v.*
    from lower_levels as g
    inner join lines as l on l.period = g.period
    cross join lateral (
        values
        ('households_registered', g.n_rows, null, g.n_rows, 0),
        ('households_not_exited', g.not_exited, null, g.n_rows, 0),
        -- without a line for the year the standard is not assessed: every unit unknown
        (
            'households_meeting_standard_not_exited',
            if(l.line_missing, null, g.meeting_not_exited),
            if(l.line_missing, null, g.not_exited - g.meeting_unknown),
            g.not_exited,
            if(l.line_missing, g.not_exited, g.meeting_unknown)
        ),
        (
            'households_exited_not_meeting',
            if(l.line_missing, null, g.exited_not_meeting),
            if(l.line_missing, null, g.exited - g.exited_unknown),
            g.exited,
            if(l.line_missing, g.exited, g.exited_unknown)
        ),
        ('af_headcount_ratio', g.af_q, g.af_n, g.n_rows, g.n_rows - g.af_n),
        ('af_intensity', g.af_score_sum, g.af_q, g.n_rows, g.n_rows - g.af_n),
        ('af_adjusted_headcount', g.af_score_sum, g.af_n, g.n_rows, g.n_rows - g.af_n)
    ) as v (indicator_code, numerator, denominator, units_total, units_unknown)
    union all
    -- a guarantee counts the households lacking it over those whose guarantee is known
    select
        g.geo_level,
        g.geo_code,
        g.period,
        d.indicator_code,
        coalesce(u.lacking, 0),
        g.n_rows - coalesce(u.blank, 0),
        g.n_rows,
        coalesce(u.blank, 0)
    from lower_levels as g
    inner join ref.indicator_definitions as d on d.indicator_code like 'households_lacking_%'
    left join guarantees as u
        on u.geo_level = g.geo_level
        and u.geo_code = g.geo_code
        and u.period = g.period
        and u.indicator_code = d.indicator_code
),

-- at county level the ledger's quarantined rows are units too, and unknown
facts as (
    select
        g.geo_level,
        g.geo_code,
        g.geo_name_zh,
        g.period,
        g.is_complete,
        m.indicator_code,
        m.numerator,
        m.denominator,
        m.units_total + g.q as units_total,
        m.units_unknown + g.q as units_unknown
    from lower_levels as g
    inner join measures as m
        on m.geo_level = g.geo_level and m.geo_code = g.geo_code and m.period = g.period
),

typed as (
    select
        geo_level,
        geo_code,
        geo_name_zh,
        period,
        indicator_code,
        cast(if(all_unknown, null, numerator) as decimal(38, 12)) as numerator,
        cast(if(all_unknown, null, denominator) as decimal(38, 12)) as denominator,
        cast(units_total as bigint) as units_total,
        cast(units_unknown as bigint) as units_unknown
    from (
        select
            *,
            (units_total > 0 and units_unknown >= units_total)
            or (units_total = 0 and not is_complete) as all_unknown
        from facts
    )
),

-- every county counts in its prefecture and the province too (ref.geographies)
upper_levels as (
    select
        t.indicator_code,
        g.geo_level,
        g.geo_code,
        g.geo_name_zh,
        t.period,
        sum(t.numerator) as numerator,
        sum(t.denominator) as denominator,
        cast(sum(t.units_total) as bigint) as units_total,
        cast(sum(t.units_unknown) as bigint) as units_unknown
    from typed as t
    inner join ref.geographies as g on g.county_code = t.geo_code and g.geo_level <> 'county'
    where t.geo_level = 'county'
    group by t.indicator_code, g.geo_level, g.geo_code, g.geo_name_zh, t.period
)

select
    indicator_code, geo_level, geo_code, geo_name_zh, period, numerator, denominator,
    units_total, units_unknown
from typed
union all by name
select
    indicator_code, geo_level, geo_code, geo_name_zh, period, numerator, denominator,
    units_total, units_unknown
from upper_levels
order by
    indicator_code,
    case geo_level when 'village' then 0 when 'county' then 1 when 'prefecture' then 2 else 3 end,
    geo_code,
    period
