-- 010: the period of the load each feed's memory was made from, so that a later load can take a row looked up from
-- it as its key's current version only when it is not for an earlier period (warehouse/unchanged_rows.py). A
-- memory made before this has none, and is not looked up until the feed's next load remembers again.
alter table landing.row_digest_feeds add column if not exists as_of date;
comment on column landing.row_digest_feeds.as_of is 'The period end of the load remembered, as loading took it (the extract''s declared period end, else the day it was received).';
