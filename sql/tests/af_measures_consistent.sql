-- Alkire–Foster indicators per geography and period: 0 ≤ H, A, M0 ≤ 1; M0 = H × A within
-- 1e-12; the parts agree (H's numerator q = A's denominator, A's numerator Σ c_i(k) = M0's
-- numerator, H's denominator n = M0's denominator); A ≥ k of the parameters where q > 0
-- (every poor household scores at least k; tolerance 1e-9); n ≤ households_registered.
with af as (
    select
        geo_level,
        geo_code,
        period,
        max(numerator) filter (where indicator_code = 'af_headcount_ratio') as q,
        max(denominator) filter (where indicator_code = 'af_headcount_ratio') as n,
        max(value) filter (where indicator_code = 'af_headcount_ratio') as h,
        max(numerator) filter (where indicator_code = 'af_intensity') as a_num,
        max(denominator) filter (where indicator_code = 'af_intensity') as a_den,
        max(value) filter (where indicator_code = 'af_intensity') as a,
        max(numerator) filter (where indicator_code = 'af_adjusted_headcount') as m_num,
        max(denominator) filter (where indicator_code = 'af_adjusted_headcount') as m_den,
        max(value) filter (where indicator_code = 'af_adjusted_headcount') as m0,
        max(numerator) filter (where indicator_code = 'households_registered') as registered
    from marts.indicators
    where indicator_code like 'af\_%' escape '\' or indicator_code = 'households_registered'
    group by geo_level, geo_code, period
)

select af.*
from af
cross join intermediate.int_af_parameters as p
where (h is not null and (h < 0 or h > 1))
    or (a is not null and (a < 0 or a > 1 + 1e-12))
    or (m0 is not null and (m0 < 0 or m0 > 1 + 1e-12))
    or (h is not null and a is not null and abs(m0 - h * a) > 1e-12)
    or (h is not null and a is null and q > 0)
    or (q > 0 and a < p.k - 1e-9)
    or q is distinct from a_den
    or a_num is distinct from m_num
    or n is distinct from m_den
    or n > registered
