-- kpi.resettlement (grain, inputs and unique key: resettlement.yml)
-- Children leaving custody: of the children released in the year (a resettlement intervention started), how many
-- had suitable accommodation at release, how many a suitable ETE place at release, and how many both. Release is
-- the resettlement intervention's start; what it records at its start is the child's state at release.
create or replace view kpi.resettlement as
with

final as (
    select
        la_code,
        financial_year_label(fy_start) as financial_year,
        count(*) as custody_leavers,
        count(*) filter (where accommodation_suitable) as suitable_accommodation,
        count(*) filter (where ete_suitable) as suitable_ete,
        count(*) filter (where accommodation_suitable and ete_suitable) as both_in_place,
        percent(count(*) filter (where accommodation_suitable and ete_suitable), count(*)) as both_in_place_pct
    from conformed.kpi_caseload
    where kpi_group = 'released_from_custody'
    group by la_code, fy_start
)

select * from final
order by la_code, financial_year;

comment on view kpi.resettlement is 'Children released from custody with suitable accommodation and ETE in place at release, by LA and financial year. Method: docs/methods.md#partnership-measures.';
comment on column kpi.resettlement.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.resettlement.financial_year is 'Financial year of release, e.g. 2024-25.';
comment on column kpi.resettlement.custody_leavers is 'Children released from custody (resettlement started).';
comment on column kpi.resettlement.suitable_accommodation is 'Of those, with suitable accommodation at release.';
comment on column kpi.resettlement.suitable_ete is 'Of those, with a suitable ETE place at release.';
comment on column kpi.resettlement.both_in_place is 'Of those, with both.';
comment on column kpi.resettlement.both_in_place_pct is 'both_in_place / custody_leavers, per cent.';
