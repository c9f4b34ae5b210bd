-- conformed.proven_outcomes (grain, inputs and unique key: proven_outcomes.yml)
-- The events that make a first time entrant and that prove a reoffence (docs/methods.md#proven-outcomes).
-- Community resolutions, Outcome 22/23 and triage are not proven outcomes and never appear here.
-- The child is the one conformed.child_identifiers links across agencies: a caution sent without a PNC ID and a later
-- conviction with one are the same child when the force's records pair its person id with that PNC ID; an outcome
-- sent with a PNC ID is that PNC ID's child, whatever else its person id was paired with. Outcomes at
-- every age are kept (a reoffence counts at 18 too); each view limits the ages its definition names.
-- A custodial sentence carries its release date (macro release_date, transforms/macros/sentences.sql).
create or replace view conformed.proven_outcomes as
with

cautions as (
    select
        coalesce(own.child_key, i.child_key, 'force:' || p.force_person_id) as child_key,
        'police_outcomes' as source_feed,
        p.outcome_id as source_id,
        case when p.child_gravity_matrix = 4 then 'youth_conditional_caution' else 'youth_caution' end as outcome,
        false as is_custodial,
        p.offence_date,
        p.outcome_date as proven_date,
        p.age_at_offence,
        p.age_at_outcome as age_at_proven,
        p.dob_month,
        p.home_la_code as la_code,
        p.sex,
        p.ethnicity,
        p.offence_category,
        p.gravity_score,
        null::bigint as length_months,
        null::date as release_date
    from core.police_outcomes as p
    -- the outcome's own PNC ID first; the force's person id links one sent without a PNC ID
    left join conformed.child_identifiers as own on own.identifier_kind = 'pnc' and own.identifier = p.pnc_id
    left join conformed.child_identifiers as i
        on i.identifier_kind = 'police_person' and i.identifier = p.force_person_id
    where p.outcome_type = 2
),

convictions as (
    select
        coalesce(i.child_key, 'pnc:' || c.pnc_id) as child_key,
        'court_disposals' as source_feed,
        c.disposal_id as source_id,
        c.disposal_type as outcome,
        is_custodial_disposal(c.disposal_type) as is_custodial,
        c.offence_date,
        c.hearing_date as proven_date,
        c.age_at_offence,
        c.age_at_hearing as age_at_proven,
        c.dob_month,
        c.home_la_code as la_code,
        c.sex,
        null as ethnicity,
        c.offence_category,
        c.gravity_score,
        c.length_months,
        case when is_custodial_disposal(c.disposal_type) and c.length_months is not null then
            release_date(c.disposal_type, c.hearing_date, c.length_months, c.offence_category, c.gravity_score)
        end as release_date
    from core.court_disposals as c
    left join conformed.child_identifiers as i on i.identifier_kind = 'pnc' and i.identifier = c.pnc_id
    where c.verdict = 'convicted' and c.pnc_id is not null
)

select * from cautions
union all
select * from convictions;

comment on view conformed.proven_outcomes is 'One row per proven outcome (youth caution, youth conditional caution or court conviction), at any age, with the child linked across agencies. The events behind first time entrants and proven reoffending. Method: docs/methods.md#proven-outcomes.';
comment on column conformed.proven_outcomes.child_key is 'The child (conformed.child_identifiers): yos:, pnc: or force: and a pseudonym.';
comment on column conformed.proven_outcomes.proven_date is 'Date the offence was proven: the caution date or the court hearing date.';
comment on column conformed.proven_outcomes.is_custodial is 'True for a custodial sentence (DTO, s250 detention, extended sentence, detention for life).';
comment on column conformed.proven_outcomes.source_feed is 'Lineage: the feed the outcome came from (police_outcomes or court_disposals).';
comment on column conformed.proven_outcomes.source_id is 'Lineage: outcome_id or disposal_id in that feed.';
comment on column conformed.proven_outcomes.outcome is 'youth_caution, youth_conditional_caution, or the court disposal type.';
comment on column conformed.proven_outcomes.offence_date is 'Date the offence was committed.';
comment on column conformed.proven_outcomes.age_at_offence is 'Age in whole years on the offence date.';
comment on column conformed.proven_outcomes.age_at_proven is 'Age in whole years on the proven date (caution or hearing).';
comment on column conformed.proven_outcomes.dob_month is 'Month of birth (first of the month): the date of birth is never stored.';
comment on column conformed.proven_outcomes.la_code is 'ONS code of the local authority of residence at the outcome.';
comment on column conformed.proven_outcomes.sex is 'M, F or U.';
comment on column conformed.proven_outcomes.ethnicity is 'ONS 2021 ethnic group code (police outcomes only; courts do not send it).';
comment on column conformed.proven_outcomes.offence_category is 'Offence category (partner-extracts.md code list).';
comment on column conformed.proven_outcomes.gravity_score is 'YJB offence gravity score, 1-8.';
comment on column conformed.proven_outcomes.length_months is 'Sentence length in months, where the disposal has one.';
comment on column conformed.proven_outcomes.release_date is 'Custodial sentences: the release date worked out from the sentence type and length (docs/methods.md#release-from-custody).';
