-- 009: a row new to the memory and sent twice in one extract is remembered twice, once with the key and hash of
-- the copy loaded and once without (the repeat, held back by the key's uniqueness): remembering no longer makes
-- them one (issue 28, a national first load's cost). Only the comment changes; warehouse/unchanged_rows.py looks up
-- only rows with a key.
comment on table landing.row_digests is 'Each row of the feed''s last loaded extract, as a keyed digest of its values as sent (never the values), with the key and stored-values hash loading made of it. A row new to the memory and sent twice is here twice: once loaded, with its key, and once held back, without (the one without a key is forgotten at the next load).';
