-- 008: what the loader remembers of each feed's last loaded extract, so that the next night's work follows what
-- changed (issue 28): a keyed digest of each distinct row as sent, the pseudonymised key and stored-values hash
-- loading made of it, and what the rules that read only the row itself found in it. warehouse/unchanged_rows.py
-- reads and writes them; none of it is published.
create table if not exists landing.row_digest_feeds (
    feed varchar not null,
    load_id bigint not null,
    made_by varchar not null,
    pseudonym_key_version integer not null
);
create table if not exists landing.row_digest_rules (
    feed varchar not null,
    rule_id varchar not null,
    fingerprint varchar not null
);
create table if not exists landing.row_digests (
    feed varchar not null,
    digest uhugeint not null,
    _key varchar,
    _row_hash varchar
);
create table if not exists landing.row_digest_problems (
    feed varchar not null,
    digest uhugeint not null,
    rule_id varchar not null,
    rule_kind varchar not null,
    severity varchar not null,
    column_name varchar,
    value varchar,
    message varchar not null,
    fix varchar not null
);
comment on table landing.row_digest_feeds is 'Each feed whose last loaded extract is remembered: that load, what made its rows (the contract and the loader''s code) and the pseudonym key version (a change of either forgets it).';
comment on column landing.row_digest_feeds.feed is 'The feed.';
comment on column landing.row_digest_feeds.load_id is 'The load of the extract remembered.';
comment on column landing.row_digest_feeds.made_by is 'Fingerprint of what made the rows loaded from it: the contract''s file, the code lists and formats, and the loader''s code that types, stores, pseudonymises and hashes a row.';
comment on column landing.row_digest_feeds.pseudonym_key_version is 'The pseudonym key version it was loaded under.';
comment on table landing.row_digest_rules is 'The rules that read only the row itself, as they were when the feed''s last extract was checked: a rule whose fingerprint has not changed need not be run again on a row sent again unchanged.';
comment on column landing.row_digest_rules.feed is 'The feed.';
comment on column landing.row_digest_rules.rule_id is 'The rule.';
comment on column landing.row_digest_rules.fingerprint is 'MD5 of the rule as checked: its SQL, severity, columns, message and fix.';
comment on table landing.row_digests is 'Each distinct row of the feed''s last loaded extract, as a keyed digest of its values as sent (never the values), with the key and stored-values hash loading made of it.';
comment on column landing.row_digests.feed is 'The feed.';
comment on column landing.row_digests.digest is 'Keyed MD5 (a secret derived from the pseudonym key, prefixed) of the row''s raw values.';
comment on column landing.row_digests._key is 'The row''s key as history stores it (over pseudonyms); NULL when the row was not loaded.';
comment on column landing.row_digests._row_hash is 'The hash of the row''s stored values, as history stores it; NULL when the row was not loaded.';
comment on table landing.row_digest_problems is 'What the remembered rules found in each remembered row (values minimised as in quarantine.row_problems), copied to a later load that receives the same row again.';
comment on column landing.row_digest_problems.feed is 'The feed.';
comment on column landing.row_digest_problems.digest is 'The row''s digest (landing.row_digests).';
comment on column landing.row_digest_problems.rule_id is 'The rule broken.';
comment on column landing.row_digest_problems.rule_kind is 'The kind of check.';
comment on column landing.row_digest_problems.severity is 'error or warning.';
comment on column landing.row_digest_problems.column_name is 'The column at fault.';
comment on column landing.row_digest_problems.value is 'The offending value, minimised as in quarantine.row_problems.';
comment on column landing.row_digest_problems.message is 'What is wrong, as the partner is told.';
comment on column landing.row_digest_problems.fix is 'How to fix it, as the partner is told.';
create table if not exists landing.row_digest_groups (
    feed varchar not null,
    columns varchar not null,
    grp uhugeint not null,
    fingerprint uhugeint not null
);
comment on table landing.row_digest_groups is 'Each group of rows a remembered rule reads together (the rows sharing its PARTITION BY columns: a child''s episodes), as it was in the feed''s last extract: a group with the same fingerprint is the same rows in the same order, and its rows'' problems are copied.';
comment on column landing.row_digest_groups.feed is 'The feed.';
comment on column landing.row_digest_groups.columns is 'The columns the group shares, comma-separated.';
comment on column landing.row_digest_groups.grp is 'Keyed MD5 of the group''s values of those columns, as sent.';
comment on column landing.row_digest_groups.fingerprint is 'Hash of the digests of the group''s rows, each with its place in the group in file order.';
