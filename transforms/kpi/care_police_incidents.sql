-- kpi.care_police_incidents (grain, inputs and unique key: care_police_incidents.yml)
-- The protocol on reducing unnecessary criminalisation of looked-after children (partner-extracts.md,
-- cic_police_incidents): of police call-outs to or from a placement, how many were resolved without criminalising
-- the child (no further action, a restorative outcome, or arrest then no further action), how many out of court
-- (community resolution, Outcome 22, youth caution, youth conditional caution), and how many charged. The three
-- groups add up to all incidents.
create or replace view kpi.care_police_incidents as
with

final as (
    select
        (select la_code from core.partnership) as la_code,
        financial_year_label(financial_year_start(incident_date)) as financial_year,
        count(*) as incidents,
        count(*) filter (where reported_by = 'placement_staff') as reported_by_placement_staff,
        count(*) filter (where restorative_approach_used) as restorative_approach_used,
        count(*) filter (where police_outcome in ('no_further_action', 'restorative', 'arrest_no_further_action'))
            as resolved_without_criminalisation,
        percent(count(*) filter (where police_outcome in ('no_further_action', 'restorative',
                                                          'arrest_no_further_action')), count(*))
            as resolved_without_criminalisation_pct,
        count(*) filter (where police_outcome in ('community_resolution', 'outcome_22', 'youth_caution',
                                                  'youth_conditional_caution')) as out_of_court,
        count(*) filter (where police_outcome = 'charge') as charged
    from core.cic_police_incidents
    group by all
)

select * from final
order by la_code, financial_year;

comment on view kpi.care_police_incidents is 'Police call-outs involving looked-after children at or from a placement, and how many were resolved without criminalising the child, by financial year. Method: docs/methods.md#partnership-measures.';
comment on column kpi.care_police_incidents.la_code is 'ONS code of the partnership''s local authority (the council that looks after the children).';
comment on column kpi.care_police_incidents.financial_year is 'Financial year of the incident, e.g. 2024-25.';
comment on column kpi.care_police_incidents.incidents is 'Police call-outs or incidents involving a looked-after child at or from a placement.';
comment on column kpi.care_police_incidents.reported_by_placement_staff is 'Of those, reported by placement staff.';
comment on column kpi.care_police_incidents.restorative_approach_used is 'Of those, where a restorative approach was used.';
comment on column kpi.care_police_incidents.resolved_without_criminalisation is 'No further action, restorative outcome, or arrest then no further action.';
comment on column kpi.care_police_incidents.resolved_without_criminalisation_pct is 'resolved_without_criminalisation / incidents, per cent.';
comment on column kpi.care_police_incidents.out_of_court is 'Community resolution, Outcome 22, youth caution or youth conditional caution.';
comment on column kpi.care_police_incidents.charged is 'Charged.';
