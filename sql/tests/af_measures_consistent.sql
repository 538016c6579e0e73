-- Alkire–Foster indicators per geography and period: 0 ≤ H, A, M0 ≤ 1; M0 = H × A within
-- 1e-12; the parts agree (H's numerator q = A's denominator, A's numerator Σ c_i(k) = M0's
-- numerator, H's denominator n = M0's denominator); A ≥ k of the parameters where q > 0
-- (every poor household scores at least k; tolerance 1e-9); n ≤ households_registered.
-- one row per geography and period; <code>_num, <code>_den, <code>_value of each indicator
with af as (
    pivot (
        select geo_level, geo_code, period, indicator_code, numerator, denominator, value
        from marts.indicators
    )
    on indicator_code in (
        'af_headcount_ratio', 'af_intensity', 'af_adjusted_headcount', 'households_registered'
    )
    using max(numerator) as num, max(denominator) as den, max(value) as value
    group by geo_level, geo_code, period
),

measures as (
    select
        geo_level,
        geo_code,
        period,
        af_headcount_ratio_num as q,
        af_headcount_ratio_den as n,
        af_headcount_ratio_value as h,
        af_intensity_num as a_num,
        af_intensity_den as a_den,
        af_intensity_value as a,
        af_adjusted_headcount_num as m_num,
        af_adjusted_headcount_den as m_den,
        af_adjusted_headcount_value as m0,
        households_registered_num as registered
    from af
)

select m.*
from measures as m
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
