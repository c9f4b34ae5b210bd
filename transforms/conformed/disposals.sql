-- conformed.disposals (grain, inputs and unique key: disposals.yml)
-- Each court sentence or verdict for an offence by a child (domain.md 4.3), with the child it belongs to.
create or replace view conformed.disposals as
select i.child_key, f.*
from core.court_disposals as f
left join conformed.child_identifiers as i on i.identifier_kind = 'pnc' and i.identifier = f."pnc_id";

comment on view conformed.disposals is 'One row per court sentence or verdict for an offence by a child (domain.md 4.3), with the child.';
comment on column conformed.disposals.child_key is 'The child (see conformed.child_identifiers).';
