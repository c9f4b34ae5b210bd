-- conformed.reoffending_cohorts (grain, inputs and unique key: reoffending_cohorts.yml)
-- Proven reoffending (docs/methods.md#reoffending): the members of each cohort and their index events are
-- conformed.reoffending_members. A reoffence counts when the offence is committed within 12 months after the index
-- date AND proven (caution or conviction) within 18 months of it (the 12 months plus a 6-month waiting period).
-- Every reoffence counts, even several from one court occasion; they are counted once per child and index date
-- (several cohorts share one).
-- Each child carries what the splits of kpi.reoffending_by_group need: age band (age at the index event), sex,
-- ethnic group, the index disposal and care status (conformed.children, only the cohorts' children of it: joined
-- whole, every child's row was held for the join, and at national size under the loader's memory cap that spilled,
-- 27 s against 9 s; measured: bench/NOTES.md).
create or replace view conformed.reoffending_cohorts as
with

index_dates as (
    -- each child's index dates: those of the quarter cohorts, each once (a rolling cohort's is one of them)
    select child_key, index_date from conformed.reoffending_members where cohort_type = 'quarter'
),

reoffences as (
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
        age_band(m.age_at_index) as age_band,
        coalesce(p.sex, m.sex, 'U') as sex,
        ethnic_group(p.ethnicity) as ethnic_group,
        case when p.is_looked_after then 'looked_after' else 'not_looked_after' end as care_status,
        coalesce(r.reoffences, 0) as reoffences
    from conformed.reoffending_members as m
    left join reoffences as r using (child_key, index_date)
    left join (select child_key, sex, ethnicity, is_looked_after from conformed.children
               where child_key in (select child_key from conformed.reoffending_members)) as p
        on p.child_key = m.child_key
)

select * from final;

comment on view conformed.reoffending_cohorts is 'One row per proven reoffending cohort and quarterly index event of a child in it: index date, what the splits need (age band, sex, ethnic group, index disposal, care status) and the proven reoffences (at any age) in the follow-up year. Method: docs/methods.md#reoffending.';
comment on column conformed.reoffending_cohorts.cohort_type is 'quarter (3-month cohort, the MoJ basis since 2017) or rolling_12_months (the four quarterly cohorts ending cohort_end, added up).';
comment on column conformed.reoffending_cohorts.cohort_start is 'First day of the cohort period.';
comment on column conformed.reoffending_cohorts.cohort_end is 'Last day of the cohort period.';
comment on column conformed.reoffending_cohorts.child_key is 'The child (conformed.child_identifiers).';
comment on column conformed.reoffending_cohorts.la_code is 'ONS code of the local authority of residence at the index event.';
comment on column conformed.reoffending_cohorts.index_date is 'The child''s first caution, non-custodial conviction or release from custody in the period.';
comment on column conformed.reoffending_cohorts.index_disposal is 'caution, court_non_custodial or custody_release: the index event.';
comment on column conformed.reoffending_cohorts.age_band is '10-14 or 15-17: age at the index event.';
comment on column conformed.reoffending_cohorts.sex is 'M, F or U.';
comment on column conformed.reoffending_cohorts.ethnic_group is 'ONS 2021 high-level ethnic group, or Not known.';
comment on column conformed.reoffending_cohorts.care_status is 'looked_after or not_looked_after (conformed.children).';
comment on column conformed.reoffending_cohorts.reoffences is 'Reoffences committed within 12 months of the index date and proven within 18.';
