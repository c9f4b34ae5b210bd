-- kpi.custody_transfers (grain, inputs and unique key: custody_transfers.yml)
-- The Concordat on Children in Custody (domain.md 4.5): a child charged and denied bail should be moved from the
-- police station to local authority accommodation (PACE s.38(6)). Of children held overnight after charge, how many
-- had a transfer requested, how many transfers were achieved, and why the others were not; with the same for
-- children already looked after.
create or replace view kpi.custody_transfers as
with

detentions as (
    select t.*, coalesce(c.is_looked_after, false) as is_looked_after,
           t.accommodation_requested in ('non_secure', 'secure') as is_requested
    from conformed.custody_transfers as t
    left join conformed.children as c using (child_key)
),

final as (
    select
        home_la_code as la_code,
        financial_year_label(financial_year_start(charge_datetime::date)) as financial_year,
        count(*) as held_overnight,
        count(*) filter (where bail_refused) as bail_refused,
        count(*) filter (where is_requested) as transfers_requested,
        count(*) filter (where is_requested and transfer_achieved) as transfers_achieved,
        percent(count(*) filter (where is_requested and transfer_achieved), count(*) filter (where is_requested))
            as transfers_achieved_pct,
        count(*) filter (where accommodation_requested = 'secure') as secure_requested,
        count(*) filter (where is_requested and not transfer_achieved) as not_transferred,
        count(*) filter (where reason_not_transferred = 'no_la_bed') as not_transferred_no_la_bed,
        count(*) filter (where reason_not_transferred = 'la_refused') as not_transferred_la_refused,
        count(*) filter (where reason_not_transferred = 'transport') as not_transferred_transport,
        count(*) filter (where reason_not_transferred = 'child_refused') as not_transferred_child_refused,
        count(*) filter (where reason_not_transferred = 'other') as not_transferred_other,
        count(*) filter (where is_looked_after and is_requested) as looked_after_requested,
        count(*) filter (where is_looked_after and is_requested and transfer_achieved) as looked_after_achieved
    from detentions
    group by all
)

select * from final
order by la_code, financial_year;

comment on view kpi.custody_transfers is 'Concordat on Children in Custody: children charged and held overnight, transfers to local authority accommodation requested and achieved, and why not, by LA and financial year. Method: docs/methods.md#partnership-measures.';
comment on column kpi.custody_transfers.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.custody_transfers.financial_year is 'Financial year of the charge, e.g. 2024-25.';
comment on column kpi.custody_transfers.held_overnight is 'Children charged and held overnight in police custody.';
comment on column kpi.custody_transfers.bail_refused is 'Of those, refused bail.';
comment on column kpi.custody_transfers.transfers_requested is 'A transfer to LA accommodation (secure or non-secure) was requested.';
comment on column kpi.custody_transfers.transfers_achieved is 'Of those, the transfer was achieved.';
comment on column kpi.custody_transfers.transfers_achieved_pct is 'transfers_achieved / transfers_requested, per cent.';
comment on column kpi.custody_transfers.secure_requested is 'Secure accommodation was requested.';
comment on column kpi.custody_transfers.not_transferred is 'Requested and not achieved.';
comment on column kpi.custody_transfers.not_transferred_no_la_bed is 'Not transferred: no local authority bed.';
comment on column kpi.custody_transfers.not_transferred_la_refused is 'Not transferred: the local authority refused.';
comment on column kpi.custody_transfers.not_transferred_transport is 'Not transferred: transport.';
comment on column kpi.custody_transfers.not_transferred_child_refused is 'Not transferred: the child refused.';
comment on column kpi.custody_transfers.not_transferred_other is 'Not transferred: another reason.';
comment on column kpi.custody_transfers.looked_after_requested is 'Transfers requested for children already looked after.';
comment on column kpi.custody_transfers.looked_after_achieved is 'Of those, achieved.';
