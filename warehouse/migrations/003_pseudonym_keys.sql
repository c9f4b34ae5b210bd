-- Which key each pseudonym key version was made with, recorded as a check value: the pseudonym of a fixed text
-- under that key (warehouse/pseudonymise.py). A load under any other key is refused, instead of silently giving
-- every child a second pseudonym (a shell without the service's environment would read another key). A warehouse
-- loaded before this table existed records its key at its next load.
create table if not exists audit.pseudonym_keys (
    version integer primary key,
    check_value varchar not null,
    first_used_at timestamptz not null
);
comment on table audit.pseudonym_keys is 'Each pseudonym key version with a check value of its key (never the key); loads under another key are refused.';
