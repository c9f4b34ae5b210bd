-- 004: a comment on every column of the loader's own tables (issue 29, item 15). The published `audit` copies
-- (warehouse/publish.py, AUDIT_COPIES) take their columns' comments from here, so an analyst's `catalog` says what
-- each audit column means. A later migration that adds a column comments it too (tests/warehouse/test_audit_comments.py).

comment on table landing.extracts is 'Every extract received, unchanged, content-addressed by SHA-256 (the files live in <data>/landing/).';
comment on column landing.extracts.extract_id is 'The extract: <feed>-<first 12 hex digits of its SHA-256>.';
comment on column landing.extracts.feed is 'The feed the extract was sent as (its contract: expectations/contracts/<feed>.yml).';
comment on column landing.extracts.partner is 'The partner agency that sent it (configuration id).';
comment on column landing.extracts.sha256 is 'SHA-256 of the file as received, hex: the same bytes land once per feed.';
comment on column landing.extracts.bytes is 'Size of the file as received, in bytes.';
comment on column landing.extracts.source is 'Where it came from: the https URL (never a secret), intake:<name> or file:<name>.';
comment on column landing.extracts.original_name is 'The file''s name as the partner sent it, when it had one.';
comment on column landing.extracts.stored_path is 'Where the file is kept, relative to the data directory.';
comment on column landing.extracts.received_at is 'When the extract was landed (UTC).';
comment on column landing.extracts.declared_period_start is 'First day of the period the partner declared the extract speaks for, if declared.';
comment on column landing.extracts.declared_period_end is 'Last day of that period, if declared; else the extract speaks for the day it arrived.';
comment on column landing.extracts.declared_kind is 'snapshot or delta as declared (else the contract''s kind); reset: a snapshot the partner marked a deliberate reset.';
comment on column landing.extracts.etag is 'The partner''s ETag for the extract, for a conditional request next time.';
comment on column landing.extracts.last_modified is 'The partner''s Last-Modified for the extract, for If-Modified-Since next time.';
comment on column landing.extracts.deleted_at is 'When retention deleted the landed file (NULL while it is kept).';

comment on table landing.intake_seen is 'Files seen in an intake folder and not yet taken: one is taken when unchanged between two scans.';
comment on column landing.intake_seen.partner is 'The partner whose intake folder holds the file.';
comment on column landing.intake_seen.name is 'The file''s name in the intake folder.';
comment on column landing.intake_seen.size is 'Its size in bytes when last seen.';
comment on column landing.intake_seen.mtime_ns is 'Its modification time when last seen, in nanoseconds since the epoch.';

comment on table audit.loads is 'Every load of an extract: rows received, loaded and quarantined, and its outcome.';
comment on column audit.loads.load_id is 'The load, numbered in the order loads started.';
comment on column audit.loads.extract_id is 'The extract loaded (landing.extracts / audit.extracts).';
comment on column audit.loads.feed is 'The extract''s feed.';
comment on column audit.loads.partner is 'The partner that sent the extract.';
comment on column audit.loads.started_at is 'When the load started (UTC).';
comment on column audit.loads.finished_at is 'When it finished (UTC); NULL if it failed part way.';
comment on column audit.loads.status is 'loaded; held_back (the whole extract kept out, the previous good data stays published); failed (retried by the next run).';
comment on column audit.loads.rows_received is 'Data rows in the extract (its header excluded).';
comment on column audit.loads.rows_loaded is 'Rows loaded into history: rows received less rows quarantined.';
comment on column audit.loads.rows_quarantined is 'Rows not loaded because they broke an error rule or could not be read.';
comment on column audit.loads.rows_with_warnings is 'Rows loaded that broke only warning rules (reported to the partner).';
comment on column audit.loads.versions_added is 'New row versions the load added to history (new or changed rows).';
comment on column audit.loads.versions_replaced is 'Current row versions it replaced: changed rows, and rows a snapshot no longer holds (withdrawn).';
comment on column audit.loads.contract_version is 'Version of the feed''s contract the extract was checked against.';
comment on column audit.loads.collection_year is 'SSDA903 collection year (its starting year) whose code lists applied; NULL for other feeds.';
comment on column audit.loads.pseudonym_key_version is 'Version of the pseudonym key the load''s pseudonyms were made with (never the key).';
comment on column audit.loads.message is 'For a held-back extract, the whole-extract rules it broke.';

comment on table quarantine.row_problems is 'Every failing row: its line, rule, column and the message and fix sent to the partner.';
comment on column quarantine.row_problems.load_id is 'The load that found the problem.';
comment on column quarantine.row_problems.extract_id is 'The extract holding the row.';
comment on column quarantine.row_problems.feed is 'The extract''s feed.';
comment on column quarantine.row_problems.partner is 'The partner that sent it.';
comment on column quarantine.row_problems.line is 'Line of the row in the partner''s file (the header is line 1).';
comment on column quarantine.row_problems.rule_id is 'The contract rule broken (<feed>.<column>.<check>, or line.malformed).';
comment on column quarantine.row_problems.rule_kind is 'The kind of check: required, codes, format, range, unique, compare, malformed...';
comment on column quarantine.row_problems.severity is 'error: the row is quarantined, not loaded; warning: the row is loaded and reported.';
comment on column quarantine.row_problems.column_name is 'The column at fault, when the rule is about one.';
comment on column quarantine.row_problems.value is 'The offending value, minimised: never an identifier''s or a date of birth''s (the partner''s alert re-reads its own row from the landed file).';
comment on column quarantine.row_problems.message is 'What is wrong, in plain words, as the partner is told.';
comment on column quarantine.row_problems.fix is 'How to fix it, as the partner is told.';

comment on table audit.extract_problems is 'Whole-extract problems: an extract held back (fatal) or loaded with a warning about it as a whole.';
comment on column audit.extract_problems.load_id is 'The load that found the problem.';
comment on column audit.extract_problems.extract_id is 'The extract at fault.';
comment on column audit.extract_problems.feed is 'The extract''s feed.';
comment on column audit.extract_problems.partner is 'The partner that sent it.';
comment on column audit.extract_problems.rule_id is 'The whole-extract rule (file.*, header.*, extract.*).';
comment on column audit.extract_problems.severity is 'fatal: the whole extract is held back; warning: it is loaded and the partner told.';
comment on column audit.extract_problems.message is 'What is wrong, in plain words, as the partner is told.';
comment on column audit.extract_problems.fix is 'How to fix it, as the partner is told.';

comment on table audit.validation_results is 'Each contract rule checked on each load, with Great Expectations'' verdict.';
comment on column audit.validation_results.load_id is 'The load checked.';
comment on column audit.validation_results.rule_id is 'The contract rule.';
comment on column audit.validation_results.severity is 'error or warning, as the contract says.';
comment on column audit.validation_results.gx_expectation is 'The Great Expectations expectation the rule ran as.';
comment on column audit.validation_results.gx_success is 'GX''s verdict: true when no row broke the rule.';
comment on column audit.validation_results.failing_rows is 'Rows that broke the rule (GX''s count, equal to the rows in quarantine.row_problems).';

comment on table audit.alerts is 'Every delivery of a data-quality alert or escalation: by email or webhook, sent or failed.';
comment on column audit.alerts.run_id is 'The run that composed the alert.';
comment on column audit.alerts.partner is 'The partner told (yos_data_lead for an escalation).';
comment on column audit.alerts.channel is 'email or webhook.';
comment on column audit.alerts.recipient is 'The email address, or webhook:<contact name> (never a webhook''s URL).';
comment on column audit.alerts.sent_at is 'When the delivery was tried (UTC).';
comment on column audit.alerts.status is 'sent, or failed (resent by the next run from its outbox copy).';
comment on column audit.alerts.attempts is 'Attempts made in this try.';
comment on column audit.alerts.problems is 'Problems the alert reported.';
comment on column audit.alerts.error is 'Why the delivery failed, if it did.';
comment on column audit.alerts.copy_path is 'The message as sent or to resend, under <data>/outbox/ (deleted after alerts.outbox_retention_days unless awaiting resend).';

comment on table audit.fetches is 'Every attempt to fetch a feed from its partner''s endpoint.';
comment on column audit.fetches.partner is 'The partner asked.';
comment on column audit.fetches.feed is 'The feed asked for.';
comment on column audit.fetches.url is 'The URL asked (never carries a secret).';
comment on column audit.fetches.attempt is 'Attempt number within the fetch (retries count up).';
comment on column audit.fetches.fetched_at is 'When the attempt was made (UTC).';
comment on column audit.fetches.http_status is 'The HTTP status answered, if any.';
comment on column audit.fetches.bytes is 'Bytes received.';
comment on column audit.fetches.duration_ms is 'How long the attempt took, in milliseconds.';
comment on column audit.fetches.outcome is 'landed, unchanged (304), retry or failed.';
comment on column audit.fetches.detail is 'Why it was retried or failed (never a secret).';

comment on table audit.retention is 'What each retention run deleted, per feed.';
comment on column audit.retention.applied_at is 'When retention was applied (UTC).';
comment on column audit.retention.feed is 'The feed.';
comment on column audit.retention.years is 'The feed''s retention period in years.';
comment on column audit.retention.cutoff is 'Rows and files speaking for dates before this were deleted.';
comment on column audit.retention.history_rows_deleted is 'Row versions deleted from history.';
comment on column audit.retention.landed_files_deleted is 'Landed files deleted (their manifest rows stay, marked deleted).';
comment on column audit.retention.row_problems_deleted is 'Row problems of those files deleted.';

comment on table audit.rebuilds is 'Every rebuild of the warehouse from the landing zone (a key rotation, or by hand).';
comment on column audit.rebuilds.started_at is 'When the rebuild started (UTC).';
comment on column audit.rebuilds.finished_at is 'When it finished (UTC); NULL if it did not.';
comment on column audit.rebuilds.reason is 'rekey or requested.';
comment on column audit.rebuilds.pseudonym_key_version is 'The key version the rebuild made its pseudonyms with.';
comment on column audit.rebuilds.extracts_reloaded is 'Extracts loaded again from the landing zone.';

comment on table audit.reminders is 'Every late-extract reminder (to the partner) and escalation (to the YOS data lead).';
comment on column audit.reminders.partner is 'The partner whose extract was late.';
comment on column audit.reminders.feed is 'The feed that was due.';
comment on column audit.reminders.due_at is 'The due time missed (UTC), from the expected-extract calendar.';
comment on column audit.reminders.kind is 'reminder (to the partner) or escalation (a second miss, to the YOS data lead).';
comment on column audit.reminders.recipient is 'Who was told.';
comment on column audit.reminders.sent_at is 'When it was sent or tried (UTC).';
comment on column audit.reminders.status is 'sent, or failed (tried again at the next check).';
comment on column audit.reminders.error is 'Why it failed, if it did.';

comment on table quarantine.problems is 'Each distinct data problem (partner, feed, rule, column): opened when first seen, closed when an extract no longer shows it.';
comment on column quarantine.problems.partner is 'The partner whose feed shows the problem.';
comment on column quarantine.problems.feed is 'The feed.';
comment on column quarantine.problems.rule_id is 'The contract rule broken.';
comment on column quarantine.problems.column_name is 'The column at fault; empty for a whole-extract rule.';
comment on column quarantine.problems.severity is 'fatal, error or warning (the most severe seen when it opened).';
comment on column quarantine.problems.opened_load is 'The load that first showed it.';
comment on column quarantine.problems.opened_at is 'When it was first seen (UTC).';
comment on column quarantine.problems.last_seen_load is 'The latest load that showed it.';
comment on column quarantine.problems.last_seen_at is 'When it was last seen (UTC).';
comment on column quarantine.problems.extracts_seen is 'Extracts of the feed that have shown it.';
comment on column quarantine.problems.last_rows is 'Rows showing it in the latest extract that did.';
comment on column quarantine.problems.closed_load is 'The load whose extract no longer showed it (fixed); NULL while open.';
comment on column quarantine.problems.closed_at is 'When it was fixed (UTC); NULL while open.';
comment on column quarantine.problems.escalated_at is 'When it was escalated to the YOS data lead; NULL if not.';

comment on table audit.schema_version is 'Each migration of the loader''s warehouse, when it was applied.';
comment on column audit.schema_version.version is 'The migration''s number (warehouse/migrations/<NNN>_<name>.sql).';
comment on column audit.schema_version.name is 'Its file''s name.';
comment on column audit.schema_version.applied_at is 'When it was applied (UTC).';

comment on column audit.pseudonym_keys.version is 'The pseudonym key version (pseudonymisation.version).';
comment on column audit.pseudonym_keys.check_value is 'The pseudonym of a fixed text under that key: proves which key, reveals nothing of it.';
comment on column audit.pseudonym_keys.first_used_at is 'When a load first used the version (UTC).';
