-- kpi.send_aln (grain, inputs and unique key: send_aln.yml)
-- YJB KPI 3, special educational needs and disabilities (domain.md 2): of the children with an identified SEND
-- need, the share who are in suitable ETE AND have a formal learning plan for the current academic year. A formal
-- plan is an EHCP, an IDP (Wales) or another recorded plan; 'none' is not a plan. Children are measured as in KPIs 1
-- and 2 (community interventions at their end, releases from custody at release).
create or replace view kpi.send_aln as
with

counted as (
    select
        la_code,
        fy_start,
        count(*) as children,
        count(*) filter (where send_identified) as send_identified,
        count(*) filter (where send_identified and learning_plan <> 'none') as with_learning_plan,
        count(*) filter (where send_identified and learning_plan = 'ehcp') as with_ehcp,
        count(*) filter (where send_identified and ete_suitable) as in_suitable_ete,
        count(*) filter (where send_identified and ete_suitable and learning_plan <> 'none')
            as with_plan_and_suitable_ete
    from conformed.kpi_caseload
    group by all
),

final as (
    select
        la_code,
        financial_year_label(fy_start) as financial_year,
        children,
        send_identified,
        percent(send_identified, children) as send_identified_pct,
        with_learning_plan,
        with_ehcp,
        in_suitable_ete,
        with_plan_and_suitable_ete,
        percent(with_plan_and_suitable_ete, send_identified) as with_plan_and_suitable_ete_pct
    from counted
)

select * from final
order by la_code, financial_year;

comment on view kpi.send_aln is 'YJB KPI 3: children with identified special educational needs (ALN in Wales) who are in suitable ETE and have a formal learning plan, by LA and financial year. Method: docs/methods.md#yjb-kpis-1-10.';
comment on column kpi.send_aln.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.send_aln.financial_year is 'Financial year in which the child was measured, e.g. 2024-25.';
comment on column kpi.send_aln.children is 'Interventions measured (as KPIs 1 and 2).';
comment on column kpi.send_aln.send_identified is 'Of those, with an identified SEND need.';
comment on column kpi.send_aln.send_identified_pct is 'send_identified / children, per cent.';
comment on column kpi.send_aln.with_learning_plan is 'Children with SEND who have a formal learning plan (EHCP, IDP or other).';
comment on column kpi.send_aln.with_ehcp is 'Children with SEND who have an Education, Health and Care Plan.';
comment on column kpi.send_aln.in_suitable_ete is 'Children with SEND in suitable ETE.';
comment on column kpi.send_aln.with_plan_and_suitable_ete is 'Children with SEND in suitable ETE and with a formal learning plan.';
comment on column kpi.send_aln.with_plan_and_suitable_ete_pct is 'with_plan_and_suitable_ete / send_identified, per cent (the KPI).';
