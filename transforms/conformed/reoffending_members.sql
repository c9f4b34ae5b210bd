-- conformed.reoffending_members (grain, inputs and unique key: reoffending_members.yml)
-- Who is in each proven reoffending cohort (domain.md 1.2): every child who, in the cohort period, received a
-- caution, a non-custodial conviction, or was released from custody. The child's index event is their first such
-- event in the period; what the splits need is taken at it (LA, age at the index offence, sex as the outcome
-- recorded it, the index disposal). Release from custody is the sentence date plus half the sentence length (the
-- custodial half of a DTO). conformed.reoffending_cohorts adds the reoffences and the child's attributes.
-- Cohorts are built from each child's first event per quarter (a hash aggregate, which spills to disk) rather than a
-- range join of events to cohorts. A rolling cohort's index event is the earliest of the child's quarterly firsts in
-- its four quarters. So each quarterly first is the index event of the rolling cohorts ending in its quarter and the
-- three after, except those that also hold the child's previous quarterly first: one window over the firsts, not an
-- aggregate over four copies of them (measured: bench/NOTES.md). This and conformed.reoffending_cohorts are two stored models, not
-- one, so that each fits in the loader's memory at national scale.
create or replace view conformed.reoffending_members as
with

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

firsts as (
    -- each child's first index event in each quarter
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

rolling_firsts as (
    -- each quarterly first, with the quarter of the child's quarterly first before it
    select *, lag(quarter_start) over (partition by child_key order by quarter_start) as previous_quarter
    from firsts
),

final as (
    -- quarter cohorts: the child's first event in the quarter
    select 'quarter' as cohort_type, quarter_start as cohort_start,
           (quarter_start + interval 3 month - interval 1 day)::date as cohort_end,
           child_key, index_date, la_code, age_at_index_offence, sex, index_disposal
    from firsts
    union all
    -- rolling 12-month cohorts ending with each quarter: the first event of the four quarters, which is the
    -- quarterly first of the earliest of them the child has one in
    select 'rolling_12_months', (cohort_quarter - interval 9 month)::date,
           (cohort_quarter + interval 3 month - interval 1 day)::date,
           child_key, index_date, la_code, age_at_index_offence, sex, index_disposal
    from (
        select (f.quarter_start + to_months(3 * k))::date as cohort_quarter, f.*
        from rolling_firsts as f, range(4) as t(k)
    )
    where cohort_quarter <= (select quarter_start from last_quarter)
      and (previous_quarter is null or cohort_quarter >= previous_quarter + interval 12 month)
)

select * from final;

comment on view conformed.reoffending_members is 'One row per proven reoffending cohort and child in it, with the child''s index event; conformed.reoffending_cohorts adds reoffences and the splits.';
comment on column conformed.reoffending_members.cohort_type is 'quarter (3-month cohort, the MoJ basis since 2016) or rolling_12_months (the four quarters ending cohort_end).';
comment on column conformed.reoffending_members.cohort_start is 'First day of the cohort period.';
comment on column conformed.reoffending_members.cohort_end is 'Last day of the cohort period.';
comment on column conformed.reoffending_members.child_key is 'The child as conformed.proven_outcomes keys them (PNC ID pseudonym, else force person id).';
comment on column conformed.reoffending_members.index_date is 'The child''s first caution, non-custodial conviction or release from custody in the period.';
comment on column conformed.reoffending_members.la_code is 'ONS code of the local authority of residence at the index event.';
comment on column conformed.reoffending_members.age_at_index_offence is 'Age at the offence of the index event.';
comment on column conformed.reoffending_members.sex is 'Sex as recorded with the index event.';
comment on column conformed.reoffending_members.index_disposal is 'caution, court_non_custodial or custody_release: the index event.';
