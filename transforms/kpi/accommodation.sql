-- kpi.accommodation (grain, inputs and unique key: accommodation.yml)
-- YJB KPI 1, accommodation (domain.md 2): the share of children in the community and of children released from
-- custody who have suitable accommodation, measured at the end of their intervention (community) or at release.
-- Sub-measures: each group on its own, and suitable accommodation at the start of community interventions
-- (so the board sees whether the YOS's work changed it).
create or replace view kpi.accommodation as
with

counted as (
    select
        la_code,
        fy_start,
        count(*) as children,
        count(*) filter (where accommodation_suitable) as suitable,
        count(*) filter (where kpi_group = 'in_community') as in_community,
        count(*) filter (where kpi_group = 'in_community' and accommodation_suitable) as in_community_suitable,
        count(*) filter (where kpi_group = 'in_community' and accommodation_suitable_start)
            as in_community_suitable_at_start,
        count(*) filter (where kpi_group = 'released_from_custody') as released_from_custody,
        count(*) filter (where kpi_group = 'released_from_custody' and accommodation_suitable)
            as released_from_custody_suitable
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
        percent(released_from_custody_suitable, released_from_custody) as released_from_custody_suitable_pct
    from counted
)

select * from final
order by la_code, financial_year;

comment on view kpi.accommodation is 'YJB KPI 1: children in the community (at the end of their intervention) and released from custody (at release) with suitable accommodation, by LA and financial year. Method: docs/methods.md#yjb-kpis-1-10.';
comment on column kpi.accommodation.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.accommodation.financial_year is 'Financial year in which the child was measured (intervention end or release), e.g. 2024-25.';
comment on column kpi.accommodation.children is 'Interventions measured: in the community plus released from custody.';
comment on column kpi.accommodation.suitable is 'Of those, with suitable accommodation.';
comment on column kpi.accommodation.suitable_pct is 'suitable / children, per cent (the KPI).';
comment on column kpi.accommodation.in_community is 'Community interventions (prevention and diversion included) that ended in the year.';
comment on column kpi.accommodation.in_community_suitable_at_start is 'Of those, with suitable accommodation when the intervention started.';
comment on column kpi.accommodation.in_community_suitable is 'Of those, with suitable accommodation at the end.';
comment on column kpi.accommodation.in_community_suitable_pct is 'in_community_suitable / in_community, per cent.';
comment on column kpi.accommodation.released_from_custody is 'Children released from custody in the year (resettlement started).';
comment on column kpi.accommodation.released_from_custody_suitable is 'Of those, with suitable accommodation at release.';
comment on column kpi.accommodation.released_from_custody_suitable_pct is 'released_from_custody_suitable / released_from_custody, per cent.';
