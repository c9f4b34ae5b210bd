-- kpi.ete (grain, inputs and unique key: ete.yml)
-- YJB KPI 2, education, training and employment (domain.md 2): the share of children in the community and of
-- children released from custody attending a suitable ETE arrangement, measured at the end of their intervention
-- (community) or at release. Sub-measures: each group, suitable ETE at the start of community interventions, and
-- the hours of ETE offered and attended.
create or replace view kpi.ete as
with

counted as (
    select
        la_code,
        fy_start,
        count(*) as children,
        count(*) filter (where ete_suitable) as suitable,
        count(*) filter (where kpi_group = 'in_community') as in_community,
        count(*) filter (where kpi_group = 'in_community' and ete_suitable_start) as in_community_suitable_at_start,
        count(*) filter (where kpi_group = 'in_community' and ete_suitable) as in_community_suitable,
        count(*) filter (where kpi_group = 'released_from_custody') as released_from_custody,
        count(*) filter (where kpi_group = 'released_from_custody' and ete_suitable) as released_from_custody_suitable,
        coalesce(sum(ete_hours_offered), 0) as hours_offered,
        coalesce(sum(ete_hours_attended), 0) as hours_attended
    from conformed.kpi_caseload
    group by all
),

final as (
    select
        la_code,
        financial_year_label(fy_start) as financial_year,
        children,
        suitable,
        percent(suitable, children) as suitable_pct,
        in_community,
        in_community_suitable_at_start,
        in_community_suitable,
        percent(in_community_suitable, in_community) as in_community_suitable_pct,
        released_from_custody,
        released_from_custody_suitable,
        percent(released_from_custody_suitable, released_from_custody) as released_from_custody_suitable_pct,
        hours_offered,
        hours_attended,
        percent(hours_attended, hours_offered) as hours_attended_pct
    from counted
)

select * from final
order by la_code, financial_year;

comment on view kpi.ete is 'YJB KPI 2: children in the community (at the end of their intervention) and released from custody (at release) attending suitable education, training or employment, by LA and financial year, with hours offered and attended. Method: docs/methods.md#yjb-kpis-1-10.';
comment on column kpi.ete.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.ete.financial_year is 'Financial year in which the child was measured (intervention end or release), e.g. 2024-25.';
comment on column kpi.ete.children is 'Interventions measured: in the community plus released from custody.';
comment on column kpi.ete.suitable is 'Of those, attending suitable ETE.';
comment on column kpi.ete.suitable_pct is 'suitable / children, per cent (the KPI).';
comment on column kpi.ete.in_community is 'Community interventions (prevention and diversion included) that ended in the year.';
comment on column kpi.ete.in_community_suitable_at_start is 'Of those, in suitable ETE when the intervention started.';
comment on column kpi.ete.in_community_suitable is 'Of those, in suitable ETE at the end.';
comment on column kpi.ete.in_community_suitable_pct is 'in_community_suitable / in_community, per cent.';
comment on column kpi.ete.released_from_custody is 'Children released from custody in the year (resettlement started).';
comment on column kpi.ete.released_from_custody_suitable is 'Of those, with suitable ETE at release.';
comment on column kpi.ete.released_from_custody_suitable_pct is 'released_from_custody_suitable / released_from_custody, per cent.';
comment on column kpi.ete.hours_offered is 'Hours of ETE a week offered, summed over the interventions.';
comment on column kpi.ete.hours_attended is 'Hours of ETE a week attended, summed over the interventions.';
comment on column kpi.ete.hours_attended_pct is 'hours_attended / hours_offered, per cent.';
