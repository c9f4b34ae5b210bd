-- 011: the loader remembers only the groups of several rows (warehouse/unchanged_rows.py): a group of one row is
-- that row, and whether its row was sent before says whether it changed. A group of several rows that cannot be
-- compared (a row of it has no digest, or two of its rows are the same row sent twice) is remembered too, without a
-- fingerprint, so that a group of one row now is known to have had several.
alter table landing.row_digest_groups alter column fingerprint drop not null;
comment on table landing.row_digest_groups is 'Each group of several rows a remembered rule reads together (the rows sharing its PARTITION BY columns: a child''s episodes, a key sent twice), as it was in the feed''s last extract: a group with the same fingerprint is the same rows in the same order, and its rows'' problems are copied. A group of one row is not here: its row''s digest says whether it changed.';
comment on column landing.row_digest_groups.fingerprint is 'Hash of the digests of the group''s rows, each with its place in the group in file order; NULL when the group cannot be compared (a row without a digest, or the same row twice): it is checked again whole.';
