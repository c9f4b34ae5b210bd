-- conformed.victims (grain, inputs and unique key: victims.yml)
-- Each victim of an offence linked to a YOS intervention (YJB KPI 10), with the child whose intervention it is.
-- No victim is identified: the partnership holds no victim identifiers.
create or replace view conformed.victims as
select i.child_key, v.intervention_type, w.*
from core.yos_victims as w
left join core.yos_interventions as v using (intervention_id)
left join conformed.child_identifiers as i on i.identifier_kind = 'yos' and i.identifier = v.yos_child_id;

comment on view conformed.victims is 'One row per victim linked to a YOS intervention (consent, contact, restorative justice), with the child.';
comment on column conformed.victims.child_key is 'The child whose intervention the victim is linked to.';
comment on column conformed.victims.intervention_type is 'Type of the intervention.';
