-- kpi.health_needs (grain, inputs and unique key: health_needs.yml)
-- YJB KPIs 4 and 5 (domain.md 2), each a funnel of three nested counts: children with a screened or identified
-- need for an intervention (mental health and emotional wellbeing; specialist substance misuse treatment); of
-- those, the ones with an intervention planned or offered; of those, the ones attending. The contract guarantees
-- need >= offered >= attending for every child. Children are measured as in KPIs 1 and 2.
create or replace view kpi.health_needs as
with

needs as (
    select la_code, fy_start, 'mental_health' as need, mh_need as has_need, mh_offered as offered,
           mh_attending as attending
    from conformed.kpi_caseload
    union all
    select la_code, fy_start, 'substance_misuse', sm_need, sm_offered, sm_attending
    from conformed.kpi_caseload
),

final as (
    select
        la_code,
        financial_year_label(fy_start) as financial_year,
        need,
        count(*) as children,
        count(*) filter (where has_need) as with_need,
        percent(count(*) filter (where has_need), count(*)) as with_need_pct,
        count(*) filter (where has_need and offered) as offered,
        percent(count(*) filter (where has_need and offered), count(*) filter (where has_need)) as offered_pct,
        count(*) filter (where has_need and offered and attending) as attending,
        percent(count(*) filter (where has_need and offered and attending),
                count(*) filter (where has_need and offered)) as attending_pct
    from needs
    group by la_code, fy_start, need
)

select * from final
order by la_code, financial_year, need;

comment on view kpi.health_needs is 'YJB KPIs 4 (mental health and emotional wellbeing) and 5 (substance misuse): children with a need, of those with an intervention planned or offered, of those attending, by LA, financial year and need. Method: docs/methods.md#yjb-kpis-1-10.';
comment on column kpi.health_needs.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.health_needs.financial_year is 'Financial year in which the child was measured, e.g. 2024-25.';
comment on column kpi.health_needs.need is 'mental_health (KPI 4) or substance_misuse (KPI 5).';
comment on column kpi.health_needs.children is 'Interventions measured (as KPIs 1 and 2).';
comment on column kpi.health_needs.with_need is 'Of those, with a screened or identified need.';
comment on column kpi.health_needs.with_need_pct is 'with_need / children, per cent.';
comment on column kpi.health_needs.offered is 'Of those with a need, with an intervention or treatment planned or offered.';
comment on column kpi.health_needs.offered_pct is 'offered / with_need, per cent.';
comment on column kpi.health_needs.attending is 'Of those offered, attending.';
comment on column kpi.health_needs.attending_pct is 'attending / offered, per cent.';
