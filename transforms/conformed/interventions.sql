-- conformed.interventions (grain, inputs and unique key: interventions.yml)
-- Each YOS intervention with a child, prevention and diversion included, with the child and the KPI fields
-- recorded at its start and end.
create or replace view conformed.interventions as
select i.child_key, f.*
from core.yos_interventions as f
left join conformed.child_identifiers as i on i.identifier_kind = 'yos' and i.identifier = f."yos_child_id";

comment on view conformed.interventions is 'One row per YOS intervention with a child, prevention and diversion included, with the child and the KPI fields recorded at its start and end.';
comment on column conformed.interventions.child_key is 'The child (see conformed.child_identifiers).';
