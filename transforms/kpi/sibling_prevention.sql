-- kpi.sibling_prevention (grain, inputs and unique key: sibling_prevention.yml)
-- Prevention work with the brothers and sisters of children the YOS supervises: how many children it reached (by
-- the year their intervention started), how many interventions ended and were completed, and how many of the
-- children reached went on to a proven outcome (caution or conviction) after the work started.
create or replace view kpi.sibling_prevention as
with

siblings as (
    select child_key, home_la_code as la_code, start_date, end_date, end_reason, pnc_id
    from conformed.interventions
    where intervention_type = 'sibling_prevention'
),

later_proven as (
    select distinct s.child_key, s.start_date
    from siblings as s
    join conformed.proven_outcomes as p on p.child_key = s.child_key and p.proven_date > s.start_date
),

final as (
    select
        s.la_code,
        financial_year_label(financial_year_start(s.start_date)) as financial_year,
        count(distinct s.child_key) as children_reached,
        count(*) as interventions_started,
        count(*) filter (where s.end_date is not null) as interventions_ended,
        count(*) filter (where s.end_reason = 'completed') as interventions_completed,
        percent(count(*) filter (where s.end_reason = 'completed'), count(*) filter (where s.end_date is not null))
            as completed_pct,
        count(distinct l.child_key) as later_proven_outcome
    from siblings as s
    left join later_proven as l using (child_key, start_date)
    group by s.la_code, financial_year_start(s.start_date)
)

select * from final
order by la_code, financial_year;

comment on view kpi.sibling_prevention is 'Sibling prevention: children reached, interventions completed, and children reached who later had a proven outcome, by LA and financial year the work started. Method: docs/methods.md#partnership-measures.';
comment on column kpi.sibling_prevention.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.sibling_prevention.financial_year is 'Financial year the sibling prevention work started, e.g. 2024-25.';
comment on column kpi.sibling_prevention.children_reached is 'Children with sibling prevention work starting in the year.';
comment on column kpi.sibling_prevention.interventions_started is 'Sibling prevention interventions started.';
comment on column kpi.sibling_prevention.interventions_ended is 'Of those, ended.';
comment on column kpi.sibling_prevention.interventions_completed is 'Of those, completed.';
comment on column kpi.sibling_prevention.completed_pct is 'interventions_completed / interventions_ended, per cent.';
comment on column kpi.sibling_prevention.later_proven_outcome is 'Children reached who had a caution or conviction after the work started.';
