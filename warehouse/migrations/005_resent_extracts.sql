-- 005: an extract whose bytes arrive again when they are not the feed's current state is loaded again (issue 29,
-- item 6): re-sending the last good snapshot after a bad one must restore it, not be taken for a duplicate. The
-- manifest keeps one row per feed and SHA-256; this column says when those bytes last arrived again.
alter table landing.extracts add column resent_at timestamptz;
comment on column landing.extracts.resent_at is 'When the same bytes last arrived again while not the feed''s current state (a good snapshot re-sent after a bad one): the extract is loaded again, as of then. NULL if never.';
