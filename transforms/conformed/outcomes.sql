-- conformed.outcomes (grain, inputs and unique key: outcomes.yml)
-- Each police outcome of an offence by a child (Home Office outcome type, domain.md 4.1), with the child it
-- belongs to.
create or replace view conformed.outcomes as
select i.child_key, f.*
from core.police_outcomes as f
left join conformed.child_identifiers as i on i.identifier_kind = 'police_person' and i.identifier = f."force_person_id";

comment on view conformed.outcomes is 'One row per police outcome of an offence by a child (Home Office outcome type, domain.md 4.1), with the child.';
comment on column conformed.outcomes.child_key is 'The child (see conformed.child_identifiers).';
