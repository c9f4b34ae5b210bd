-- kpi.wider_services (grain, inputs and unique key: wider_services.yml)
-- YJB KPI 8, wider services (domain.md 2): the share of children on the YOS caseload also known to wider services:
-- an Early Help plan, a child protection plan, child in need, looked after, or a care leaver. Children are measured
-- as in KPIs 1 and 2.
create or replace view kpi.wider_services as
with

counted as (
    select
        la_code,
        fy_start,
        count(*) as children,
        count(*) filter (where early_help or child_protection_plan or child_in_need or looked_after or care_leaver)
            as known_to_wider_services,
        count(*) filter (where early_help) as early_help,
        count(*) filter (where child_protection_plan) as child_protection_plan,
        count(*) filter (where child_in_need) as child_in_need,
        count(*) filter (where looked_after) as looked_after,
        count(*) filter (where care_leaver) as care_leaver
    from conformed.kpi_caseload
    group by all
),

final as (
    select
        la_code,
        financial_year_label(fy_start) as financial_year,
        children,
        known_to_wider_services,
        percent(known_to_wider_services, children) as known_to_wider_services_pct,
        early_help,
        child_protection_plan,
        child_in_need,
        looked_after,
        care_leaver
    from counted
)

select * from final
order by la_code, financial_year;

comment on view kpi.wider_services is 'YJB KPI 8: children on the YOS caseload also known to wider services (Early Help, child protection, child in need, looked after, care leaver), by LA and financial year. Method: docs/methods.md#yjb-kpis-1-10.';
comment on column kpi.wider_services.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.wider_services.financial_year is 'Financial year in which the child was measured, e.g. 2024-25.';
comment on column kpi.wider_services.children is 'Interventions measured (as KPIs 1 and 2).';
comment on column kpi.wider_services.known_to_wider_services is 'Of those, known to at least one wider service.';
comment on column kpi.wider_services.known_to_wider_services_pct is 'known_to_wider_services / children, per cent (the KPI).';
comment on column kpi.wider_services.early_help is 'With an Early Help plan.';
comment on column kpi.wider_services.child_protection_plan is 'With a current or recent child protection plan.';
comment on column kpi.wider_services.child_in_need is 'A child in need.';
comment on column kpi.wider_services.looked_after is 'Looked after by the local authority.';
comment on column kpi.wider_services.care_leaver is 'A care leaver.';
