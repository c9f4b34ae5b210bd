-- kpi.victims (grain, inputs and unique key: victims.yml)
-- YJB KPI 10, victims (domain.md 2): "the number of victims engaged in restorative justice opportunities as a
-- proportion of the total number of victims who consent to be contacted". Sub-measures: victims, consent, contact,
-- restorative justice offered, and safety plans. Counted in the financial year the child's intervention started;
-- the LA is the child's.
create or replace view kpi.victims as
with

victims as (
    select i.home_la_code as la_code, financial_year_start(i.start_date) as fy_start, v.*
    from core.yos_victims as v
    join core.yos_interventions as i using (intervention_id)
),

counted as (
    select
        la_code,
        fy_start,
        count(*) as victims,
        count(*) filter (where consent_to_contact) as consented_to_contact,
        count(*) filter (where consent_to_contact and contacted_date is not null) as contacted,
        count(*) filter (where consent_to_contact and rj_offered) as rj_offered,
        count(*) filter (where consent_to_contact and rj_engaged) as rj_engaged,
        count(*) filter (where safety_plan) as with_safety_plan
    from victims
    group by all
),

final as (
    select
        la_code,
        financial_year_label(fy_start) as financial_year,
        victims,
        consented_to_contact,
        percent(consented_to_contact, victims) as consented_pct,
        contacted,
        rj_offered,
        rj_engaged,
        percent(rj_engaged, consented_to_contact) as rj_engaged_pct,
        with_safety_plan
    from counted
)

select * from final
order by la_code, financial_year;

comment on view kpi.victims is 'YJB KPI 10: victims who consented to be contacted, were contacted, offered and engaged in restorative justice, by LA and financial year of the child''s intervention. Method: docs/methods.md#yjb-kpis-1-10.';
comment on column kpi.victims.la_code is 'ONS code of the child''s local authority of residence.';
comment on column kpi.victims.financial_year is 'Financial year in which the child''s intervention started, e.g. 2024-25.';
comment on column kpi.victims.victims is 'Victims of offences linked to YOS interventions.';
comment on column kpi.victims.consented_to_contact is 'Of those, who consented to be contacted.';
comment on column kpi.victims.consented_pct is 'consented_to_contact / victims, per cent.';
comment on column kpi.victims.contacted is 'Victims who consented and were contacted.';
comment on column kpi.victims.rj_offered is 'Victims who consented and were offered restorative justice.';
comment on column kpi.victims.rj_engaged is 'Victims who consented and engaged in restorative justice.';
comment on column kpi.victims.rj_engaged_pct is 'rj_engaged / consented_to_contact, per cent (the KPI).';
comment on column kpi.victims.with_safety_plan is 'Victims with a safety plan.';
