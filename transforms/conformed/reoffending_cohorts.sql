-- conformed.reoffending_cohorts (grain, inputs and unique key: reoffending_cohorts.yml)
-- Proven reoffending (domain.md 1.2): the members of each cohort and their index events are
-- conformed.reoffending_members. A reoffence counts when the offence is committed within 12 months after the index
-- date AND proven (caution or conviction) within 18 months of it (the 12 months plus a 6-month waiting period).
-- Every reoffence counts, even several from one court occasion; they are counted once per child and index date
-- (several cohorts share one).
-- Each child carries what the splits of kpi.reoffending_by_group need: age band (age at the index offence), sex,
-- ethnic group, the index disposal and care status (conformed.children).
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
        age_band(m.age_at_index_offence) as age_band,
        coalesce(p.sex, m.sex, 'U') as sex,
        ethnic_group(p.ethnicity) as ethnic_group,
        case when p.is_looked_after then 'looked_after' else 'not_looked_after' end as care_status,
        coalesce(r.reoffences, 0) as reoffences
    from conformed.reoffending_members as m
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
