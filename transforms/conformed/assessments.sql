-- conformed.assessments (grain, inputs and unique key: assessments.yml)
-- Each AssetPlus assessment (RoSH, safety and wellbeing, likelihood of reoffending; domain.md 4.4) with the child
-- and the type of the intervention it belongs to (court or out of court).
create or replace view conformed.assessments as
select i.child_key, v.intervention_type, a.*
from core.yos_assessments as a
left join core.yos_interventions as v using (intervention_id)
left join conformed.child_identifiers as i on i.identifier_kind = 'yos' and i.identifier = a.yos_child_id;

comment on view conformed.assessments is 'One row per AssetPlus assessment with the child and the intervention type it belongs to.';
comment on column conformed.assessments.child_key is 'The child (see conformed.child_identifiers).';
comment on column conformed.assessments.intervention_type is 'Type of the intervention the assessment belongs to.';
