-- kpi.first_time_entrants (grain, inputs and unique key: first_time_entrants.yml)
-- First time entrants (docs/methods.md#first-time-entrants): children aged 10-17 whose first youth caution, youth conditional caution or
-- court conviction falls in the year, counted in the LA of residence at that outcome, per 100,000 of the LA's
-- 10-17 population (ONS mid-year estimate). FTEs are counted by CALENDAR year, unlike most youth justice figures.
-- A child's first proven outcome is the earliest in all the history the partnership holds, for the child as
-- conformed.child_identifiers links them across police and courts (a caution without a PNC ID and a later conviction
-- with one are one child); it makes an FTE when the child was 10-17 at its offence. Community resolutions,
-- Outcome 22/23 and triage never make an FTE (they are not in conformed.proven_outcomes).
-- The England and comparator rates sit beside it in kpi.measures.
create or replace view kpi.first_time_entrants as
with

first_entries as (
    select
        child_key,
        min(proven_date) as entry_date,
        min_by(la_code, strftime(proven_date, '%Y%m%d') || source_id) as la_code,
        min_by(age_at_offence, strftime(proven_date, '%Y%m%d') || source_id) as age_at_offence
    from conformed.proven_outcomes
    group by child_key
    having min_by(age_at_offence, strftime(proven_date, '%Y%m%d') || source_id) between 10 and 17
),

counted as (
    select la_code, year(entry_date) as year, count(*) as fte_count
    from first_entries
    group by all
),

years_with_data as (
    select distinct year(proven_date) as year from conformed.proven_outcomes
),

final as (
    select
        p.la_code,
        p.year,
        coalesce(c.fte_count, 0) as fte_count,
        p.population as population_10_17,
        rate_per(coalesce(c.fte_count, 0), p.population, 100000, digits := 1) as rate_per_100k
    from core.population_10_17 as p
    inner join years_with_data using (year)
    left join counted as c using (la_code, year)
)

select * from final
order by la_code, year;

comment on view kpi.first_time_entrants is 'First time entrants to the youth justice system (YJB KPI): children aged 10-17 receiving their first youth caution, youth conditional caution or court conviction, by LA of residence and calendar year, per 100,000 aged 10-17. Method: docs/methods.md#first-time-entrants.';
comment on column kpi.first_time_entrants.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.first_time_entrants.year is 'Calendar year of the first proven outcome.';
comment on column kpi.first_time_entrants.fte_count is 'Children whose first proven outcome fell in the year.';
comment on column kpi.first_time_entrants.population_10_17 is 'ONS mid-year estimate of 10-17-year-olds in the LA.';
comment on column kpi.first_time_entrants.rate_per_100k is 'fte_count per 100,000 of population_10_17.';
