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
create or replace view conformed.reoffending_cohorts as
with

people as (
    select
        p.child_key as proven_key,
        any_value(c.sex) as sex,
        any_value(c.ethnicity) as ethnicity,
        coalesce(bool_or(c.is_looked_after), false) as is_looked_after
    from (select distinct child_key from conformed.proven_outcomes) as p
    left join conformed.child_identifiers as by_pnc
        on by_pnc.identifier_kind = 'pnc' and by_pnc.identifier = p.child_key
    left join conformed.child_identifiers as by_force
        on by_force.identifier_kind = 'police_person' and 'force:' || by_force.identifier = p.child_key
    left join conformed.children as c on c.child_key = coalesce(by_pnc.child_key, by_force.child_key)
    group by p.child_key
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

members as (
    select c.cohort_type, c.cohort_start, c.cohort_end, e.child_key,
           min(e.index_date) as index_date,
           arg_min(e.la_code, e.index_date) as la_code,
           arg_min(e.age_at_offence, e.index_date) as age_at_index_offence,
           arg_min(e.sex, e.index_date) as sex,
           arg_min(e.index_disposal, e.index_date) as index_disposal
    from cohorts as c
    inner join index_events as e on e.index_date between c.cohort_start and c.cohort_end
    group by all
),

reoffences as (
    select m.cohort_type, m.cohort_end, m.child_key, count(*) as reoffences
    from members as m
    inner join conformed.proven_outcomes as p
        on p.child_key = m.child_key
        and p.offence_date > m.index_date
        and p.offence_date <= m.index_date + interval 12 month
        and p.proven_date <= m.index_date + interval 18 month
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
    left join reoffences as r using (cohort_type, cohort_end, child_key)
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
