-- 001: the loader warehouse's fixed layers. Feed tables in `history` are created from the contracts
-- (warehouse/loading.py), one per feed, and carry the contract version they were made from.

-- landing: every extract received, unchanged, content-addressed by SHA-256 (the files live in <data>/landing/).
create schema if not exists landing;
-- staging: per-load working tables, dropped when the load ends.
create schema if not exists staging;
-- quarantine: every row-level problem found, with the rule, column and source line.
create schema if not exists quarantine;
-- history: every version of every loaded row, pseudonymised, with the load that brought it and the one that replaced it.
create schema if not exists history;
-- audit: loads, validation results, extract-level problems, alerts.
create schema if not exists audit;


create table if not exists landing.extracts (
    extract_id varchar primary key,        -- <feed>-<first 12 hex of sha256>
    feed varchar not null,
    partner varchar not null,
    sha256 varchar not null,
    bytes bigint not null,
    source varchar not null,               -- https URL (no secrets), intake:<name>, or file:<name>
    original_name varchar,
    stored_path varchar not null,          -- relative to the data directory
    received_at timestamptz not null,
    declared_period_start date,
    declared_period_end date,
    declared_kind varchar,
    etag varchar,
    last_modified varchar,                 -- the partner's Last-Modified, for If-Modified-Since
    deleted_at timestamptz,                -- set when retention deleted the file
    unique (feed, sha256)
);

-- files seen in the intake folder and not yet taken: a file is taken when it is unchanged between two scans
create table if not exists landing.intake_seen (
    partner varchar not null,
    name varchar not null,
    size bigint not null,
    mtime_ns bigint not null,
    primary key (partner, name)
);

create table if not exists audit.loads (
    load_id bigint primary key,
    extract_id varchar not null,
    feed varchar not null,
    partner varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,               -- loaded | held_back | failed
    rows_received bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    rows_with_warnings bigint,
    versions_added bigint,
    versions_replaced bigint,
    contract_version integer,
    collection_year integer,
    pseudonym_key_version integer,
    message varchar
);

create table if not exists quarantine.row_problems (
    load_id bigint not null,
    extract_id varchar not null,
    feed varchar not null,
    partner varchar not null,
    line bigint,                           -- line in the partner's file; the header is line 1
    rule_id varchar not null,
    rule_kind varchar not null,
    severity varchar not null,             -- error: row quarantined; warning: row loaded and reported
    column_name varchar,
    value varchar,                         -- the offending value; identifiers are never stored here
    message varchar not null,
    fix varchar not null
);

create table if not exists audit.extract_problems (
    load_id bigint not null,
    extract_id varchar not null,
    feed varchar not null,
    partner varchar not null,
    rule_id varchar not null,
    severity varchar not null,             -- fatal: the whole extract is held back
    message varchar not null,
    fix varchar not null
);

create table if not exists audit.validation_results (
    load_id bigint not null,
    rule_id varchar not null,
    severity varchar not null,
    gx_expectation varchar not null,
    gx_success boolean not null,
    failing_rows bigint not null
);

create table if not exists audit.alerts (
    run_id varchar not null,
    partner varchar not null,
    channel varchar not null,              -- email | webhook
    recipient varchar not null,
    sent_at timestamptz not null,
    status varchar not null,               -- sent | failed
    attempts integer not null,
    problems integer not null,
    error varchar,
    copy_path varchar                      -- the message as sent (or to resend), under <data>/outbox/
);

create table if not exists audit.fetches (
    partner varchar not null,
    feed varchar not null,
    url varchar not null,                  -- never carries a secret
    attempt integer not null,
    fetched_at timestamptz not null,
    http_status integer,
    bytes bigint,
    duration_ms bigint,
    outcome varchar not null,              -- landed | unchanged | retry | failed
    detail varchar
);

create table if not exists audit.retention (
    applied_at timestamptz not null,
    feed varchar not null,
    years integer not null,
    cutoff date not null,
    history_rows_deleted bigint not null,
    landed_files_deleted bigint not null,
    row_problems_deleted bigint not null
);

create table if not exists audit.rebuilds (
    started_at timestamptz not null,
    finished_at timestamptz,
    reason varchar not null,               -- rekey | requested
    pseudonym_key_version integer not null,
    extracts_reloaded bigint
);

create table if not exists audit.reminders (
    partner varchar not null,
    feed varchar not null,
    due_at timestamptz not null,
    kind varchar not null,                 -- reminder (to the partner) | escalation (to the YOS data lead)
    recipient varchar not null,
    sent_at timestamptz not null,
    status varchar not null,               -- sent | failed (a failed notice is tried again next check)
    error varchar
);

-- quarantine.problems: each distinct problem (partner, feed, rule, column), opened when first seen, re-checked on
-- every later extract of the feed, closed when an extract no longer shows it.
create table if not exists quarantine.problems (
    partner varchar not null,
    feed varchar not null,
    rule_id varchar not null,
    column_name varchar not null,          -- '' for whole-extract rules
    severity varchar not null,
    opened_load bigint not null,
    opened_at timestamptz not null,
    last_seen_load bigint not null,
    last_seen_at timestamptz not null,
    extracts_seen integer not null,
    last_rows bigint not null,             -- rows showing it in the last extract that did
    closed_load bigint,
    closed_at timestamptz,
    escalated_at timestamptz
);
