-- conformed.offences (grain, inputs and unique key: offences.yml)
-- The offence as each agency recorded it (date, category, YJB gravity score, weapon, victim), with the child.
-- The same offence can appear twice (police charge, then court sentence): linked_to_police_outcome says so where
-- the YOS linked them. Serious violence (domain.md 2, KPI 9) is gravity >= 5 in drugs, robbery or violence against
-- the person.
create or replace view conformed.offences as
with

police as (
    select i.child_key, 'police_outcomes' as source_feed, p.outcome_id as source_id, p.offence_date,
           p.offence_category, p.gravity_score, p.weapon, p.victim_relationship, p.age_at_offence, p.home_la_code
    from core.police_outcomes as p
    join conformed.child_identifiers as i on i.identifier_kind = 'police_person' and i.identifier = p.force_person_id
),

court as (
    select i.child_key, 'court_disposals', c.disposal_id, c.offence_date, c.offence_category, c.gravity_score,
           c.weapon, c.victim_relationship, c.age_at_offence, c.home_la_code
    from core.court_disposals as c
    join conformed.child_identifiers as i on i.identifier_kind = 'pnc' and i.identifier = c.pnc_id
),

final as (
    select *,
           gravity_score >= 5 and offence_category in ('drugs', 'robbery', 'violence_against_person')
               as is_serious_violence,
           weapon in ('knife', 'firearm', 'other') or offence_category = 'possession_of_weapons'
               as is_knife_or_weapon,
           victim_relationship = 'parent_carer' as is_child_on_parent_violence_candidate
    from (select * from police union all select * from court)
)

select * from final;

comment on view conformed.offences is 'One row per offence record of a child (police outcome or court sentence), with serious-violence, weapon and child-on-parent flags.';
comment on column conformed.offences.child_key is 'The child (see conformed.child_identifiers).';
comment on column conformed.offences.source_feed is 'Lineage: police_outcomes or court_disposals.';
comment on column conformed.offences.source_id is 'Lineage: outcome_id or disposal_id.';
comment on column conformed.offences.is_serious_violence is 'YJB KPI 9: gravity 5 or more in drugs, robbery or violence against the person.';
comment on column conformed.offences.is_knife_or_weapon is 'A knife, firearm or other weapon was involved, or the offence is possession of a weapon.';
comment on column conformed.offences.is_child_on_parent_violence_candidate is 'The victim was the child''s parent or carer (read with offence_category).';
