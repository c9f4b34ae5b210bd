-- conformed.reoffending_cohorts
-- Grain: one row per reoffending cohort (3-month 'quarter' or 'rolling_12_months') and child in it.
-- Proven reoffending (domain.md 1.2): the cohort is every child who, in the cohort period, received a caution, a
-- non-custodial conviction, or was released from custody; a child's index date is their first such event in the
-- period. A reoffence counts when the offence is committed within 12 months after the index date AND proven (caution
-- or conviction) within 18 months of it (the 12 months plus a 6-month waiting period). Every reoffence counts, even
-- several from one court occasion.
-- Release from custody is the sentence date plus half the sentence length (the custodial half of a DTO).
-- Each child carries what the splits of kpi.reoffending_by_group need, taken at the index event: age band (age at
-- the index offence), sex, ethnic group, the index disposal (caution, court order without custody, release from
-- custody) and care status (conformed.children).
-- Inputs: conformed.proven_outcomes, conformed.child_identifiers, conformed.children.
-- Shaped to run in 1 GB at national scale (bench/, 5 million police outcomes): cohorts are built from each child's
-- first event per quarter (hash aggregates, which spill) rather than a range join of events to cohorts, reoffences
-- are counted once per child and index date, and the member lists are recomputed where used (NOT MATERIALIZED)
-- rather than held in memory whole.
create or replace view conformed.reoffending_cohorts as
with

people as (
    -- proven_outcomes keys a child by PNC ID pseudonym, else 'force:' || force person id
    select
        k.proven_key,
        any_value(c.sex) as sex,
        any_value(c.ethnicity) as ethnicity,
        coalesce(bool_or(c.is_looked_after), false) as is_looked_after
    from (
        select case when identifier_kind = 'pnc' then identifier else 'force:' || identifier end as proven_key,
               child_key
        from conformed.child_identifiers
        where identifier_kind in ('pnc', 'police_person')
    ) as k
    inner join conformed.children as c on c.child_key = k.child_key
    where k.proven_key in (select child_key from conformed.proven_outcomes)
    group by k.proven_key
),

index_events as (
    select child_key, la_code, proven_date as index_date, age_at_offence, sex,
           case when source_feed = 'police_outcomes' then 'caution' else 'court_non_custodial' end as index_disposal
    from conformed.proven_outcomes
    where not is_custodial
    union all
    select child_key, la_code, (proven_date + to_months((length_months // 2)::integer))::date, age_at_offence, sex,
           'custody_release'
    from conformed.proven_outcomes
    where is_custodial and length_months is not null
),

firsts as not materialized (
    -- each child's first index event in each quarter: the cohorts below are built from these
    select date_trunc('quarter', index_date)::date as quarter_start, child_key,
           min(index_date) as index_date,
           arg_min(la_code, index_date) as la_code,
           arg_min(age_at_offence, index_date) as age_at_index_offence,
           arg_min(sex, index_date) as sex,
           arg_min(index_disposal, index_date) as index_disposal
    from index_events
    group by all
),

last_quarter as (
    select max(quarter_start) as quarter_start from firsts
),

members as not materialized (
    -- quarter cohorts: the child's first event in the quarter
    select 'quarter' as cohort_type, quarter_start as cohort_start,
           (quarter_start + interval 3 month - interval 1 day)::date as cohort_end,
           child_key, index_date, la_code, age_at_index_offence, sex, index_disposal
    from firsts
    union all
    -- rolling 12-month cohorts ending with each quarter: the first event of the four quarters
    select 'rolling_12_months', (q.cohort_quarter - interval 9 month)::date,
           (q.cohort_quarter + interval 3 month - interval 1 day)::date,
           q.child_key, min(q.index_date), arg_min(q.la_code, q.index_date),
           arg_min(q.age_at_index_offence, q.index_date), arg_min(q.sex, q.index_date),
           arg_min(q.index_disposal, q.index_date)
    from (
        select (f.quarter_start + to_months(3 * k))::date as cohort_quarter, f.*
        from firsts as f, range(4) as t(k)
    ) as q
    where q.cohort_quarter <= (select quarter_start from last_quarter)
    group by q.cohort_quarter, q.child_key
),

index_dates as (
    select distinct child_key, index_date from members
),

reoffences as (
    -- reoffences counted once per child and index date (several cohorts share one)
    select d.child_key, d.index_date, count(*) as reoffences
    from index_dates as d
    inner join conformed.proven_outcomes as p
        on p.child_key = d.child_key
        and p.offence_date > d.index_date
        and p.offence_date <= d.index_date + interval 12 month
        and p.proven_date <= d.index_date + interval 18 month
    group by all
),

final as (
    select
        m.cohort_type,
        m.cohort_start,
        m.cohort_end,
        m.child_key,
        m.la_code,
        m.index_date,
        m.index_disposal,
        age_band(m.age_at_index_offence) as age_band,
        coalesce(p.sex, m.sex, 'U') as sex,
        ethnic_group(p.ethnicity) as ethnic_group,
        case when p.is_looked_after then 'looked_after' else 'not_looked_after' end as care_status,
        coalesce(r.reoffences, 0) as reoffences
    from members as m
    left join reoffences as r using (child_key, index_date)
    left join people as p on p.proven_key = m.child_key
)

select * from final;

comment on view conformed.reoffending_cohorts is 'One row per proven reoffending cohort and child in it: index date, what the splits need (age band, sex, ethnic group, index disposal, care status) and the proven reoffences in the follow-up year.';
comment on column conformed.reoffending_cohorts.cohort_type is 'quarter (3-month cohort, the MoJ basis since 2016) or rolling_12_months (the four quarters ending cohort_end).';
comment on column conformed.reoffending_cohorts.cohort_start is 'First day of the cohort period.';
comment on column conformed.reoffending_cohorts.cohort_end is 'Last day of the cohort period.';
comment on column conformed.reoffending_cohorts.child_key is 'The child as conformed.proven_outcomes keys them (PNC ID pseudonym, else force person id).';
comment on column conformed.reoffending_cohorts.la_code is 'ONS code of the local authority of residence at the index event.';
comment on column conformed.reoffending_cohorts.index_date is 'The child''s first caution, non-custodial conviction or release from custody in the period.';
comment on column conformed.reoffending_cohorts.index_disposal is 'caution, court_non_custodial or custody_release: the index event.';
comment on column conformed.reoffending_cohorts.age_band is '10-14 or 15-17: age at the index offence.';
comment on column conformed.reoffending_cohorts.sex is 'M, F or U.';
comment on column conformed.reoffending_cohorts.ethnic_group is 'ONS 2021 high-level ethnic group, or Not known.';
comment on column conformed.reoffending_cohorts.care_status is 'looked_after or not_looked_after (conformed.children).';
comment on column conformed.reoffending_cohorts.reoffences is 'Reoffences committed within 12 months of the index date and proven within 18.';
