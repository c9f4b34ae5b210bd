-- conformed.child_identifiers (grain, inputs and unique key: child_identifiers.yml)
-- The same child links across agencies through the identifiers each lawfully holds (partner-extracts.md): the YOS
-- case record holds its own id, the PNC ID and the council's child id; police rows pair the PNC ID with the force's
-- person id; care incidents pair the council's child id with the PNC ID. A child is keyed by the first of these it
-- reaches: yos:<YOS id>, else pnc:<PNC ID>, else la:<council child id>, else force:<force person id>.
-- Every identifier here is a keyed-hash pseudonym; none can be reversed in the warehouse.
-- Each step reads the YOS case records itself, and pnc_to_yos, read three times, is NOT MATERIALIZED: DuckDB
-- would otherwise hold the shared steps' results at once, and at national size under the loader's memory cap that
-- spilled (20 s against 3 s; measured: bench/NOTES.md).
create or replace view conformed.child_identifiers as
with

pnc_to_yos as not materialized (
    select pnc_id, min(yos_child_id) as yos_child_id from core.yos_interventions where pnc_id is not null group by all
),

la_to_yos as (
    select la_child_id, min(yos_child_id) as yos_child_id from core.yos_interventions
    where la_child_id is not null group by all
),

la_to_pnc as (
    select la_child_id, min(pnc_id) as pnc_id from core.cic_police_incidents where pnc_id is not null group by all
),

force_to_pnc as (
    select force_person_id, min(pnc_id) as pnc_id
    from (select force_person_id, pnc_id from core.police_outcomes
          union all select force_person_id, pnc_id from core.custody_transfers)
    where pnc_id is not null
    group by all
),

pncs as (
    select pnc_id from core.police_outcomes where pnc_id is not null
    union select pnc_id from core.court_disposals where pnc_id is not null
    union select pnc_id from core.custody_transfers where pnc_id is not null
    union select pnc_id from core.cic_police_incidents where pnc_id is not null
    union select pnc_id from core.yos_interventions where pnc_id is not null
),

final as (
    select 'yos' as identifier_kind, yos_child_id as identifier, 'yos:' || yos_child_id as child_key
    from (select distinct yos_child_id from core.yos_interventions)
    union all
    select 'pnc', p.pnc_id, coalesce('yos:' || y.yos_child_id, 'pnc:' || p.pnc_id)
    from pncs as p left join pnc_to_yos as y using (pnc_id)
    union all
    select 'la_child', l.la_child_id,
           coalesce('yos:' || y.yos_child_id, 'yos:' || py.yos_child_id, 'pnc:' || lp.pnc_id, 'la:' || l.la_child_id)
    from (select "CHILD" as la_child_id from core.cic_header
          union select la_child_id from core.cic_police_incidents
          union select la_child_id from core.yos_interventions where la_child_id is not null) as l
    left join la_to_yos as y using (la_child_id)
    left join la_to_pnc as lp using (la_child_id)
    left join pnc_to_yos as py on py.pnc_id = lp.pnc_id
    union all
    select 'police_person', f.force_person_id,
           coalesce('yos:' || y.yos_child_id, 'pnc:' || fp.pnc_id, 'force:' || f.force_person_id)
    from (select force_person_id from core.police_outcomes
          union select force_person_id from core.custody_transfers) as f
    left join force_to_pnc as fp using (force_person_id)
    left join pnc_to_yos as y on y.pnc_id = fp.pnc_id
)

select * from final;

comment on view conformed.child_identifiers is 'Every pseudonymised child identifier (YOS id, PNC ID, council child id, force person id) and the one child it belongs to, linked through the identifiers each agency holds.';
comment on column conformed.child_identifiers.identifier_kind is 'yos, pnc, la_child or police_person.';
comment on column conformed.child_identifiers.identifier is 'The identifier''s pseudonym (keyed hash).';
comment on column conformed.child_identifiers.child_key is 'The child: yos:<id>, else pnc:<id>, else la:<id>, else force:<id> (pseudonyms).';
