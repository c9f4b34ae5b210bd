-- conformed.proven_outcomes (grain, inputs and unique key: proven_outcomes.yml)
-- The events that make a first time entrant (domain.md 1.1) and that prove a reoffence (domain.md 1.2).
-- Community resolutions, Outcome 22/23 and triage are not proven outcomes and never appear here.
-- The child is identified by the pseudonym of their PNC ID, which police and courts both hold; a police row
-- without one falls back to the force's own person id.
create or replace view conformed.proven_outcomes as
with

cautions as (
    select
        coalesce(pnc_id, 'force:' || force_person_id) as child_key,
        'police_outcomes' as source_feed,
        outcome_id as source_id,
        case when child_gravity_matrix = 4 then 'youth_conditional_caution' else 'youth_caution' end as outcome,
        false as is_custodial,
        offence_date,
        outcome_date as proven_date,
        age_at_offence,
        home_la_code as la_code,
        sex,
        ethnicity,
        offence_category,
        gravity_score,
        null::bigint as length_months
    from core.police_outcomes
    where outcome_type = 2
),

convictions as (
    select
        pnc_id as child_key,
        'court_disposals' as source_feed,
        disposal_id as source_id,
        disposal_type as outcome,
        disposal_type in ('detention_training_order', 's250_detention', 'extended_sentence') as is_custodial,
        offence_date,
        hearing_date as proven_date,
        age_at_offence,
        home_la_code as la_code,
        sex,
        null as ethnicity,
        offence_category,
        gravity_score,
        length_months
    from core.court_disposals
    where verdict = 'convicted' and pnc_id is not null
),

final as (
    select * from cautions
    union all
    select * from convictions
)

select * from final
where age_at_offence between 10 and 17;

comment on view conformed.proven_outcomes is 'One row per proven outcome (youth caution, youth conditional caution or court conviction) of a child aged 10-17 at the offence. The events behind first time entrants and proven reoffending.';
comment on column conformed.proven_outcomes.child_key is 'Pseudonymised child: the PNC ID pseudonym, else force:<police person pseudonym>.';
comment on column conformed.proven_outcomes.proven_date is 'Date the offence was proven: the caution date or the court hearing date.';
comment on column conformed.proven_outcomes.is_custodial is 'True for a custodial sentence (DTO, s250 detention, extended sentence).';
comment on column conformed.proven_outcomes.source_feed is 'Lineage: the feed the outcome came from (police_outcomes or court_disposals).';
comment on column conformed.proven_outcomes.source_id is 'Lineage: outcome_id or disposal_id in that feed.';
comment on column conformed.proven_outcomes.outcome is 'youth_caution, youth_conditional_caution, or the court disposal type.';
comment on column conformed.proven_outcomes.offence_date is 'Date the offence was committed.';
comment on column conformed.proven_outcomes.age_at_offence is 'Age in whole years on the offence date.';
comment on column conformed.proven_outcomes.la_code is 'ONS code of the local authority of residence at the outcome.';
comment on column conformed.proven_outcomes.sex is 'M, F or U.';
comment on column conformed.proven_outcomes.ethnicity is 'ONS 2021 ethnic group code (police outcomes only; courts do not send it).';
comment on column conformed.proven_outcomes.offence_category is 'Offence category (partner-extracts.md code list).';
comment on column conformed.proven_outcomes.gravity_score is 'YJB offence gravity score, 1-8.';
comment on column conformed.proven_outcomes.length_months is 'Sentence length in months, where the disposal has one.';
