-- conformed.custody_transfers (grain, inputs and unique key: custody_transfers.yml)
-- Each child charged and held overnight (Concordat on Children in Custody), with the child it is.
create or replace view conformed.custody_transfers as
select i.child_key, f.*
from core.custody_transfers as f
left join conformed.child_identifiers as i on i.identifier_kind = 'police_person' and i.identifier = f."force_person_id";

comment on view conformed.custody_transfers is 'One row per child charged and held overnight (Concordat on Children in Custody), with the child.';
comment on column conformed.custody_transfers.child_key is 'The child (see conformed.child_identifiers).';
