-- conformed.kpi_caseload (grain, inputs and unique key: kpi_caseload.yml)
-- The KPIs cover every child the YOS works with, prevention and diversion included, in two groups:
--   in_community           : an intervention (not custody, not remand) that ENDED in the period, measured at its end;
--   released_from_custody  : a resettlement intervention that STARTED in the period (the child's release from
--                            custody), measured at its start, that is at release.
create or replace view conformed.kpi_caseload as
with

community as (
    select
        child_key, intervention_id, intervention_type, home_la_code as la_code,
        'in_community' as kpi_group,
        end_date as measured_on,
        accommodation_suitable_start,
        accommodation_suitable_end as accommodation_suitable,
        ete_suitable_start,
        ete_suitable_end as ete_suitable,
        ete_hours_offered, ete_hours_attended, send_identified, learning_plan,
        mh_need, mh_offered, mh_attending, sm_need, sm_offered, sm_attending,
        early_help, child_protection_plan, child_in_need, looked_after, care_leaver
    from conformed.interventions
    where end_date is not null
        and intervention_type not in ('detention_training_order', 's250_detention', 'remand', 'resettlement')
),

released as (
    select
        child_key, intervention_id, intervention_type, home_la_code,
        'released_from_custody',
        start_date,
        accommodation_suitable_start,
        accommodation_suitable_start,
        ete_suitable_start,
        ete_suitable_start,
        ete_hours_offered, ete_hours_attended, send_identified, learning_plan,
        mh_need, mh_offered, mh_attending, sm_need, sm_offered, sm_attending,
        early_help, child_protection_plan, child_in_need, looked_after, care_leaver
    from conformed.interventions
    where intervention_type = 'resettlement'
),

final as (
    select *, financial_year_start(measured_on) as fy_start
    from (select * from community union all select * from released)
)

select * from final;

comment on view conformed.kpi_caseload is 'One row per YOS intervention counted by the YJB KPIs 1-5 and 8: interventions in the community that ended in the period (measured at the end) and releases from custody (measured at release).';
comment on column conformed.kpi_caseload.kpi_group is 'in_community (intervention ended, measured at its end) or released_from_custody (resettlement started, measured at release).';
comment on column conformed.kpi_caseload.measured_on is 'The date the KPI measures the child: the intervention''s end, or the release.';
comment on column conformed.kpi_caseload.accommodation_suitable is 'Suitable accommodation when measured (YJB KPI 1).';
comment on column conformed.kpi_caseload.ete_suitable is 'In suitable education, training or employment when measured (YJB KPI 2).';
comment on column conformed.kpi_caseload.fy_start is 'Calendar year in which the financial year of measured_on starts.';
comment on column conformed.kpi_caseload.la_code is 'ONS code of the local authority of residence, as the YOS records it.';
comment on column conformed.kpi_caseload.accommodation_suitable_start is 'Suitable accommodation at the start of the intervention.';
comment on column conformed.kpi_caseload.ete_suitable_start is 'In suitable ETE at the start of the intervention.';
comment on column conformed.kpi_caseload.child_key is 'The child (see conformed.child_identifiers).';
