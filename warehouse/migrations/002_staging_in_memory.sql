-- Staged extracts now live in the in-memory `scratch` database the loader attaches (warehouse/db.py), so raw
-- identifiers never reach this file. Drop the old on-disk staging schema and anything a crashed load left in it.
drop schema if exists staging cascade;
