-- kpi.reoffending
-- Grain: one row per local authority, cohort type ('quarter' or 'rolling_12_months') and cohort end.
-- Proven reoffending (domain.md 1.2): the cohort is every child who, in the cohort period, received a caution, a
-- non-custodial conviction, or was released from custody; a child's index date is their first such event in the
-- period. A reoffence counts when the offence is committed within 12 months after the index date AND proven (caution
-- or conviction) within 18 months of it (the 12 months plus a 6-month waiting period). Every reoffence counts, even
-- several from one court occasion.
-- Release from custody is the sentence date plus half the sentence length (the custodial half of a DTO).
-- follow_up_complete is false while the 18 months after the cohort's last index date are not yet over: such a
-- cohort's figures will still rise.
-- Inputs: conformed.proven_outcomes.
create or replace view kpi.reoffending as
with

index_events as (
    select child_key, la_code, proven_date as index_date
    from conformed.proven_outcomes
    where not is_custodial
    union all
    select child_key, la_code, (proven_date + to_months((length_months // 2)::integer))::date as index_date
    from conformed.proven_outcomes
    where is_custodial and length_months is not null
),

data_end as (
    select max(proven_date) as last_proven_date from conformed.proven_outcomes
),

quarters as (
    select unnest(generate_series(
        date_trunc('quarter', (select min(index_date) from index_events)),
        date_trunc('quarter', (select max(index_date) from index_events)),
        interval 3 month))::date as quarter_start
),

cohorts as (
    select 'quarter' as cohort_type, quarter_start as cohort_start,
           (quarter_start + interval 3 month - interval 1 day)::date as cohort_end
    from quarters
    union all
    select 'rolling_12_months', (quarter_start - interval 9 month)::date,
           (quarter_start + interval 3 month - interval 1 day)::date
    from quarters
),

cohort_members as (
    select c.cohort_type, c.cohort_start, c.cohort_end, e.child_key,
           min(e.index_date) as index_date,
           min_by(e.la_code, e.index_date) as la_code
    from cohorts as c
    inner join index_events as e on e.index_date between c.cohort_start and c.cohort_end
    group by all
),

reoffences as (
    select m.cohort_type, m.cohort_end, m.child_key, count(*) as reoffences
    from cohort_members as m
    inner join conformed.proven_outcomes as p
        on p.child_key = m.child_key
        and p.offence_date > m.index_date
        and p.offence_date <= m.index_date + interval 12 month
        and p.proven_date <= m.index_date + interval 18 month
    group by all
),

final as (
    select
        m.la_code,
        m.cohort_type,
        m.cohort_start,
        m.cohort_end,
        count(*) as offenders,
        count(r.child_key) as reoffenders,
        coalesce(sum(r.reoffences), 0)::bigint as reoffences,
        round(100.0 * count(r.child_key) / count(*), 1) as binary_rate_pct,
        round(coalesce(sum(r.reoffences), 0) / nullif(count(r.child_key), 0), 2) as reoffences_per_reoffender,
        round(coalesce(sum(r.reoffences), 0) / count(*), 2) as reoffences_per_offender,
        max(m.index_date) + interval 18 month <= (select last_proven_date from data_end) as follow_up_complete
    from cohort_members as m
    left join reoffences as r using (cohort_type, cohort_end, child_key)
    group by all
)

select * from final
order by la_code, cohort_type, cohort_end;

comment on view kpi.reoffending is 'Proven reoffending (YJB KPIs: binary rate and frequency) by LA and cohort: children cautioned, convicted without custody, or released from custody in the period, and how many reoffended within 12 months (proven within a further 6).';
comment on column kpi.reoffending.cohort_type is 'quarter (3-month cohort, the MoJ basis since 2016) or rolling_12_months (the four quarters ending cohort_end).';
comment on column kpi.reoffending.offenders is 'Children in the cohort.';
comment on column kpi.reoffending.reoffenders is 'Children in the cohort with at least one proven reoffence.';
comment on column kpi.reoffending.reoffences is 'Proven reoffences committed by the cohort in the follow-up year.';
comment on column kpi.reoffending.binary_rate_pct is 'reoffenders / offenders, per cent.';
comment on column kpi.reoffending.reoffences_per_reoffender is 'Frequency: reoffences / reoffenders.';
comment on column kpi.reoffending.reoffences_per_offender is 'Frequency: reoffences / offenders.';
comment on column kpi.reoffending.follow_up_complete is 'True when 18 months have passed since the cohort''s last index date (by the latest proven outcome held).';
comment on column kpi.reoffending.la_code is 'ONS code of the local authority of residence at the index event.';
comment on column kpi.reoffending.cohort_start is 'First day of the cohort period.';
comment on column kpi.reoffending.cohort_end is 'Last day of the cohort period.';
