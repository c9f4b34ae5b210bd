-- 007: feeds that could not be fetched are told once per episode (issue 29, item 10): when it starts, a reminder
-- and escalation every alerts.escalate_after_extracts nights while it lasts, a note when fixed. The episode in
-- progress, per partner, is kept here with the rest of the audit trail (it was a file beside it).
create table audit.fetch_failure_episodes (
    partner varchar primary key,
    since timestamptz not null,
    nights integer not null,
    last_night date not null,
    noticed_night integer not null,
    feeds varchar not null,
    partner_told boolean not null
);
comment on table audit.fetch_failure_episodes is 'Each partner whose feeds cannot be fetched now: since when, for how many nights, and what has been said.';
comment on column audit.fetch_failure_episodes.partner is 'The partner whose feeds could not be fetched.';
comment on column audit.fetch_failure_episodes.since is 'When the first night of this episode failed.';
comment on column audit.fetch_failure_episodes.nights is 'Nights on which fetching failed in this episode.';
comment on column audit.fetch_failure_episodes.last_night is 'The last night on which it failed.';
comment on column audit.fetch_failure_episodes.noticed_night is 'The night (counted within the episode) of the last notice sent.';
comment on column audit.fetch_failure_episodes.feeds is 'The feeds that failed on the last night (or every feed).';
comment on column audit.fetch_failure_episodes.partner_told is 'Whether the partner has been told (a credential missing on our side is told only to the YOS data lead).';
