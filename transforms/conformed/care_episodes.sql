-- conformed.care_episodes (grain, inputs and unique key: care_episodes.yml)
-- Each episode of care in the SSDA903 return (domain.md 5), with the child it belongs to.
-- Postcodes are outward codes only.
create or replace view conformed.care_episodes as
select i.child_key, f.*
from core.cic_episodes as f
left join conformed.child_identifiers as i on i.identifier_kind = 'la_child' and i.identifier = f."CHILD";

comment on view conformed.care_episodes is 'One row per episode of care (SSDA903 Episodes, domain.md 5), with the child. Postcodes are outward codes only.';
comment on column conformed.care_episodes.child_key is 'The child (see conformed.child_identifiers).';
