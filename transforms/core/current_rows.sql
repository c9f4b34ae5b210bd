-- core.{{feed}}: one view per feed, the feed's rows as they stand after the latest load, or after load
-- getvariable('as_at_load') when an analyst sets it (to reproduce a return as it was sent, corrections aside).
-- Grain and key are the feed's contract's (expectations/contracts/{{feed}}.yml): each current row once, pseudonymised
-- and minimised, with its lineage. history.{{feed}} keeps every version; a version is current at load N if a load no
-- later than N brought it and none no later than N replaced or withdrew it (9223372036854775807: no load set, the
-- largest load id there can be).
-- Rendered once per feed in the contracts: warehouse/publish.py puts the feed's name, title and grain where the
-- double-braced names stand. The feeds and their columns are the contract's, so the comment on each of the feed's
-- own columns is written from the contract there too, not here (a copy here would drift from the one source).
create or replace view core.{{feed}} as
select * exclude (_replaced_by) from history.{{feed}}
where _loaded_by <= coalesce(getvariable('as_at_load'), 9223372036854775807)
    and (_replaced_by is null or _replaced_by > coalesce(getvariable('as_at_load'), 9223372036854775807));

comment on view core.{{feed}} is '{{title}}, current rows (or as at load getvariable(as_at_load)). {{grain}}';
comment on column core.{{feed}}._as_of is 'The date this row''s extract speaks for (its declared period end, else the day it arrived).';
comment on column core.{{feed}}._extract_id is 'Lineage: the extract (audit.extracts) this row came from.';
comment on column core.{{feed}}._line is 'Lineage: the line of the partner''s file (the header is line 1).';
comment on column core.{{feed}}._loaded_by is 'Lineage: the load (audit.loads) that brought this version.';
comment on column history.{{feed}}._as_of is 'The date this row''s extract speaks for (its declared period end, else the day it arrived).';
comment on column history.{{feed}}._extract_id is 'Lineage: the extract (audit.extracts) this row came from.';
comment on column history.{{feed}}._line is 'Lineage: the line of the partner''s file (the header is line 1).';
comment on column history.{{feed}}._loaded_by is 'Lineage: the load (audit.loads) that brought this version.';
comment on column history.{{feed}}._replaced_by is 'Lineage: the load that replaced or withdrew this version (NULL while it is current).';
