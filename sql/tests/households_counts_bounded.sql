-- Ledger indicators per geography and period (village, county, prefecture, province): every
-- household count is at most households_registered; the guarantee shares and the AF
-- headcount are over at most the registered households (over those whose guarantee is
-- known [issue 12]); households meeting the standard but not exited are counted over at
-- most the households not exited, and exited households not meeting it over at most the
-- exited = registered − not exited (the known ones).
with w as (
    select
        geo_level,
        geo_code,
        period,
        max(numerator) filter (where indicator_code = 'households_registered') as registered,
        max(numerator) filter (where indicator_code = 'households_not_exited') as not_exited,
        max(numerator) filter (
            where indicator_code = 'households_meeting_standard_not_exited'
        ) as meeting_num,
        max(denominator) filter (
            where indicator_code = 'households_meeting_standard_not_exited'
        ) as meeting_den,
        max(numerator) filter (where indicator_code = 'households_exited_not_meeting')
            as wrong_exit_num,
        max(denominator) filter (where indicator_code = 'households_exited_not_meeting')
            as exited,
        max(denominator) filter (where indicator_code = 'af_headcount_ratio') as af_n,
        max(numerator) filter (where indicator_code = 'af_headcount_ratio') as af_q,
        max(numerator) filter (where indicator_code like 'households\_lacking\_%' escape '\')
            as max_lacking_num,
        min(denominator) filter (where indicator_code like 'households\_lacking\_%' escape '\')
            as min_lacking_den,
        max(denominator) filter (where indicator_code like 'households\_lacking\_%' escape '\')
            as max_lacking_den,
        count(*) filter (where indicator_code like 'households\_%' escape '\'
            or indicator_code like 'af\_%' escape '\') as ledger_rows
    from marts.indicators
    group by geo_level, geo_code, period
)

select *
from w
where ledger_rows > 0
    and (
        ledger_rows <> 12
        or not_exited > registered
        or max_lacking_num > registered
        or min_lacking_den < 0
        or max_lacking_den > registered
        or meeting_num > meeting_den
        or meeting_den > not_exited
        or wrong_exit_num > exited
        or exited > registered - not_exited
        or af_q > af_n
        or af_n > registered
    )
