-- kpi.children_in_care (grain, inputs and unique key: children_in_care.yml)
-- Children in care get a poorer service, inspectors found; this puts them beside other children. For children with
-- a police outcome in the year: how many, how many offences, and how those were resolved, out of court (youth
-- caution, youth conditional caution, community resolution, Outcome 22/23) or by charge. A child counts as looked
-- after when the SSDA903 return holds them or the YOS recorded them as looked after or a care leaver
-- (conformed.children). Call-outs from placements are in kpi.care_police_incidents; custody transfers under the
-- concordat in kpi.custody_transfers.
-- Children are counted per child first, then summed: a distinct count cannot spill to disk and ran out of memory
-- at national scale (measured: bench/NOTES.md).
create or replace view kpi.children_in_care as
with

looked_after as (
    select child_key from conformed.children where is_looked_after
),

outcomes as (
    select
        o.home_la_code as la_code,
        financial_year_start(o.outcome_date) as fy_start,
        case when o.child_key in (select child_key from looked_after) then 'looked_after' else 'not_looked_after' end
            as care_status,
        o.child_key,
        o.outcome_type
    from conformed.outcomes as o
),

per_child as (
    select
        la_code,
        fy_start,
        care_status,
        child_key,
        count(*) as offences,
        count(*) filter (where outcome_type in (2, 8, 22, 23)) as out_of_court,
        count(*) filter (where outcome_type = 1) as charged
    from outcomes
    group by all
),

final as (
    select
        la_code,
        financial_year_label(fy_start) as financial_year,
        care_status,
        count(child_key) as children,
        sum(offences)::bigint as offences,
        sum(out_of_court)::bigint as out_of_court,
        sum(charged)::bigint as charged,
        percent(sum(out_of_court), sum(out_of_court) + sum(charged)) as out_of_court_pct
    from per_child
    group by la_code, fy_start, care_status
)

select * from final
order by la_code, financial_year, care_status;

comment on view kpi.children_in_care is 'Children in care beside other children: children with a police outcome, their offences, and how many were resolved out of court rather than by charge, by LA, financial year and care status. Method: docs/methods.md#partnership-measures.';
comment on column kpi.children_in_care.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.children_in_care.financial_year is 'Financial year of the police outcome, e.g. 2024-25.';
comment on column kpi.children_in_care.care_status is 'looked_after (in the SSDA903 return, or recorded by the YOS as looked after or a care leaver) or not_looked_after.';
comment on column kpi.children_in_care.children is 'Children with a police outcome in the year.';
comment on column kpi.children_in_care.offences is 'Their offences with a police outcome (any outcome type).';
comment on column kpi.children_in_care.out_of_court is 'Offences resolved out of court: youth caution, youth conditional caution, community resolution, Outcome 22/23.';
comment on column kpi.children_in_care.charged is 'Offences charged or summonsed.';
comment on column kpi.children_in_care.out_of_court_pct is 'out_of_court / (out_of_court + charged), per cent.';
