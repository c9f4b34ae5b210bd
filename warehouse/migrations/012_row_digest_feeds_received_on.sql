-- 012: the loader remembers the day the remembered extract was received (warehouse/unchanged_rows.py): a date "not
-- in the future" is checked against that day, and a row that passed it then passes it on any later day, so an
-- unchanged row is checked again only if it failed.
alter table landing.row_digest_feeds add column if not exists received_on date;
comment on column landing.row_digest_feeds.received_on is 'The day the remembered extract was received, which its "not in the future" rules were checked against; NULL in a memory from before migration 012 (those rules then run on every row).';
