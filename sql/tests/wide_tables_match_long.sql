-- The wide tables (county/prefecture/province_indicators) have exactly one column per
-- code of ref.indicator_definitions (besides geo_code, geo_name_zh, period) and hold
-- the same values as marts.indicators (village rows are in marts.indicators only).
with wide_columns as (
    select
        replace(table_name, '_indicators', '') as geo_level,
        column_name as indicator_code
    from information_schema.columns
    where table_schema = 'marts'
        and table_name in ('county_indicators', 'prefecture_indicators', 'province_indicators')
        and column_name not in ('geo_code', 'geo_name_zh', 'period')
),

levels as (
    select unnest(['county', 'prefecture', 'province']) as geo_level
),

column_problems as (
    select
        coalesce(w.geo_level, e.geo_level) as geo_level,
        coalesce(w.indicator_code, e.indicator_code) as indicator_code,
        null as geo_code,
        null as period,
        case when w.indicator_code is null then 'column missing' else 'column not defined' end
            as problem
    from wide_columns as w
    full outer join (
        select l.geo_level, d.indicator_code
        from levels as l
        cross join ref.indicator_definitions as d
    ) as e
        on e.geo_level = w.geo_level and e.indicator_code = w.indicator_code
    where w.indicator_code is null or e.indicator_code is null
),

wide_rows as (
    select 'county' as geo_level, * from marts.county_indicators
    union all by name select 'prefecture' as geo_level, * from marts.prefecture_indicators
    union all by name select 'province' as geo_level, * from marts.province_indicators
),

wide_long as (
    unpivot wide_rows
    on columns(* exclude (geo_level, geo_code, geo_name_zh, period))
    into name indicator_code value value
),

long as (
    select geo_level, geo_code, period, indicator_code, value
    from marts.indicators
    where value is not null and geo_level in ('county', 'prefecture', 'province')
),

value_problems as (
    select geo_level, indicator_code, geo_code, period, 'value differs' as problem
    from wide_long as w
    full outer join long as l using (geo_level, geo_code, period, indicator_code)
    where w.value is distinct from l.value
)

select * from column_problems
union all
select * from value_problems
