-- audit.partner_scorecard (grain, inputs and unique key: partner_scorecard.yml)
-- How well each partner's data reaches the partnership, for the data-quality conversation with partners and for
-- the board (YJB KPI 7 asks whether partners contribute their data): extracts received, rows received, the share
-- of rows quarantined, extracts held back whole, problems open at the month's end, and timeliness (due times
-- missed, from the expected-extract calendar's reminders).
create or replace view audit.partner_scorecard as
with

loads as (
    select l.partner, l.feed, date_trunc('month', e.received_at)::date as month, l.status, l.rows_received,
           l.rows_quarantined
    from audit.loads as l
    inner join audit.extracts as e using (extract_id)
    where l.status in ('loaded', 'held_back')
),

by_month as (
    select partner, feed, month,
           count(*) as extracts_received,
           count(*) filter (where status = 'held_back') as extracts_held_back,
           sum(rows_received) as rows_received,
           sum(rows_quarantined) filter (where status = 'loaded') as rows_quarantined
    from loads
    group by all
),

missed as (
    select partner, feed, date_trunc('month', due_at)::date as month, count(*) as due_times_missed
    from audit.reminders
    where kind = 'reminder' and status = 'sent'
    group by all
),

months as (
    select partner, feed, month from by_month
    union
    select partner, feed, month from missed
),

open_problems as (
    select m.partner, m.feed, m.month, count(p.rule_id) as problems_open_at_month_end
    from months as m
    left join audit.problems as p
        on p.partner = m.partner and p.feed = m.feed
        and p.opened_at < m.month + interval 1 month
        and (p.closed_at is null or p.closed_at >= m.month + interval 1 month)
    group by all
),

final as (
    select
        m.partner,
        m.feed,
        m.month,
        coalesce(b.extracts_received, 0) as extracts_received,
        coalesce(b.extracts_held_back, 0) as extracts_held_back,
        coalesce(b.rows_received, 0) as rows_received,
        coalesce(b.rows_quarantined, 0) as rows_quarantined,
        percent(coalesce(b.rows_quarantined, 0), b.rows_received, digits := 2) as share_quarantined_pct,
        o.problems_open_at_month_end,
        coalesce(x.due_times_missed, 0) as due_times_missed
    from months as m
    left join by_month as b using (partner, feed, month)
    left join missed as x using (partner, feed, month)
    left join open_problems as o using (partner, feed, month)
)

select * from final
order by partner, feed, month;

comment on view audit.partner_scorecard is 'Per partner, feed and month: extracts and rows received, share quarantined, extracts held back, problems open at month end, and due times missed.';
comment on column audit.partner_scorecard.partner is 'The partner agency (configuration id).';
comment on column audit.partner_scorecard.feed is 'The feed.';
comment on column audit.partner_scorecard.month is 'Month the extracts arrived (or, for missed due times, were due).';
comment on column audit.partner_scorecard.extracts_received is 'Extracts loaded or held back in the month.';
comment on column audit.partner_scorecard.extracts_held_back is 'Extracts held back whole (unreadable or drifted).';
comment on column audit.partner_scorecard.rows_received is 'Rows in the extracts received.';
comment on column audit.partner_scorecard.rows_quarantined is 'Rows not loaded because they broke an error rule.';
comment on column audit.partner_scorecard.share_quarantined_pct is 'rows_quarantined / rows_received, per cent.';
comment on column audit.partner_scorecard.problems_open_at_month_end is 'Distinct problems (rule and column) still failing at the month''s end.';
comment on column audit.partner_scorecard.due_times_missed is 'Due times the partner missed (a reminder was sent).';
