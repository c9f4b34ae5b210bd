-- conformed.reoffending_members (grain, inputs and unique key: reoffending_members.yml)
-- Who is in each proven reoffending cohort, by the MoJ's method (docs/methods.md#reoffending): every child aged 10-17
-- at the index event who, in the cohort period, received a caution, a non-custodial conviction, or was released from
-- custody. The child's index event is their first such event in the quarter; what the splits need is taken at it
-- (LA, age at the index event, sex as the outcome recorded it, the index disposal). The release date of a custodial
-- sentence is worked out from its type and length (macro release_date, docs/methods.md#release-from-custody).
-- Only what has happened counts: no index event after the latest proven outcome held (a release still to come makes
-- no cohort), no cohort in a quarter before the first data held or after the last.
-- A rolling 12-month cohort is the four quarterly cohorts ending with it, as the MoJ builds annual figures since its
-- October 2017 change: a child with index events in two of the quarters is in it twice, once per quarterly index
-- event (so its figures add up from the quarters'). A window is shown only when all four quarters lie within the
-- data held. This and conformed.reoffending_cohorts are two stored models, not one, so that each fits in the
-- loader's memory at national scale (measured: bench/NOTES.md).
create or replace view conformed.reoffending_members as
with

data_held as (
    select date_trunc('quarter', min(proven_date))::date as first_quarter,
           date_trunc('quarter', max(proven_date))::date as last_quarter,
           max(proven_date) as last_date
    from conformed.proven_outcomes
),

index_events as (
    select child_key, la_code, proven_date as index_date, age_at_proven as age_at_index, sex,
           case when source_feed = 'police_outcomes' then 'caution' else 'court_non_custodial' end as index_disposal
    from conformed.proven_outcomes
    where not is_custodial
    union all
    select child_key, la_code, release_date,
           (date_diff('year', dob_month, release_date) - (month(release_date) < month(dob_month))::integer)::integer,
           sex, 'custody_release'
    from conformed.proven_outcomes
    where is_custodial and release_date is not null
),

firsts as (
    -- each child's first index event in each quarter, aged 10-17 at it, up to the latest data held
    select date_trunc('quarter', index_date)::date as quarter_start, child_key,
           min(index_date) as index_date,
           arg_min(la_code, index_date) as la_code,
           arg_min(age_at_index, index_date) as age_at_index,
           arg_min(sex, index_date) as sex,
           arg_min(index_disposal, index_date) as index_disposal
    from index_events
    where age_at_index between 10 and 17 and index_date <= (select last_date from data_held)
    group by all
),

final as (
    -- quarter cohorts: the child's first event in the quarter
    select 'quarter' as cohort_type, quarter_start as cohort_start,
           (quarter_start + interval 3 month - interval 1 day)::date as cohort_end,
           child_key, index_date, la_code, age_at_index, sex, index_disposal
    from firsts
    union all
    -- rolling 12-month cohorts: each quarterly first is in the four windows ending with its quarter and the three
    -- after, when the window lies within the data held
    select 'rolling_12_months', (cohort_quarter - interval 9 month)::date,
           (cohort_quarter + interval 3 month - interval 1 day)::date,
           child_key, index_date, la_code, age_at_index, sex, index_disposal
    from (
        select (f.quarter_start + to_months(3 * k))::date as cohort_quarter, f.*
        from firsts as f, range(4) as t(k)
    )
    where cohort_quarter <= (select last_quarter from data_held)
      and cohort_quarter - interval 9 month >= (select first_quarter from data_held)
)

select * from final;

comment on view conformed.reoffending_members is 'One row per proven reoffending cohort and quarterly index event in it (a rolling 12-month cohort holds a child once per quarter they have an index event in, as the MoJ counts); conformed.reoffending_cohorts adds reoffences and the splits. Method: docs/methods.md#reoffending.';
comment on column conformed.reoffending_members.cohort_type is 'quarter (3-month cohort, the MoJ basis since 2017) or rolling_12_months (the four quarterly cohorts ending cohort_end, added up).';
comment on column conformed.reoffending_members.cohort_start is 'First day of the cohort period.';
comment on column conformed.reoffending_members.cohort_end is 'Last day of the cohort period.';
comment on column conformed.reoffending_members.child_key is 'The child (conformed.child_identifiers).';
comment on column conformed.reoffending_members.index_date is 'The child''s first caution, non-custodial conviction or release from custody in the quarter.';
comment on column conformed.reoffending_members.la_code is 'ONS code of the local authority of residence at the index event.';
comment on column conformed.reoffending_members.age_at_index is 'Age at the index event (the caution, the conviction or the release); 10-17 by definition.';
comment on column conformed.reoffending_members.sex is 'Sex as recorded with the index event.';
comment on column conformed.reoffending_members.index_disposal is 'caution, court_non_custodial or custody_release: the index event.';
