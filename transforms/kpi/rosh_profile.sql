-- kpi.rosh_profile (grain, inputs and unique key: rosh_profile.yml)
-- Risk of serious harm (domain.md 4.4), which inspectors found underestimated: the RoSH levels of children starting
-- court orders and out-of-court disposals, and whether a risk management plan is in place where RoSH is Medium or
-- above. Each intervention counts once, at its first assessment (the start assessment, else the earliest), in the
-- financial year that assessment was made. Prevention, triage and remand have no RoSH assessment.
create or replace view kpi.rosh_profile as
with

first_assessment as (
    select
        intervention_id,
        arg_min(rosh_level, (stage <> 'start', assessment_date)) as rosh_level,
        arg_min(rosh_plan_in_place, (stage <> 'start', assessment_date)) as rosh_plan_in_place,
        min(assessment_date) as assessed_on
    from core.yos_assessments
    group by intervention_id
),

assessed as (
    select
        i.home_la_code as la_code,
        financial_year_start(a.assessed_on) as fy_start,
        case when i.intervention_type in ('referral_order', 'youth_rehabilitation_order', 'detention_training_order',
                                          's250_detention', 'resettlement', 'bail_support')
             then 'court' else 'out_of_court' end as disposal,
        a.rosh_level,
        a.rosh_plan_in_place
    from first_assessment as a
    join core.yos_interventions as i using (intervention_id)
),

final as (
    select
        la_code,
        financial_year_label(fy_start) as financial_year,
        disposal,
        count(*) as assessed,
        count(*) filter (where rosh_level = 'Low') as rosh_low,
        count(*) filter (where rosh_level = 'Medium') as rosh_medium,
        count(*) filter (where rosh_level = 'High') as rosh_high,
        count(*) filter (where rosh_level = 'Very High') as rosh_very_high,
        count(*) filter (where rosh_level <> 'Low') as medium_or_above,
        percent(count(*) filter (where rosh_level <> 'Low'), count(*)) as medium_or_above_pct,
        count(*) filter (where rosh_level <> 'Low' and rosh_plan_in_place) as medium_or_above_with_plan,
        percent(count(*) filter (where rosh_level <> 'Low' and rosh_plan_in_place),
                count(*) filter (where rosh_level <> 'Low')) as with_plan_pct
    from assessed
    group by la_code, fy_start, disposal
)

select * from final
order by la_code, financial_year, disposal;

comment on view kpi.rosh_profile is 'Risk of serious harm of children starting court orders and out-of-court disposals, and whether a plan is in place where RoSH is Medium or above, by LA, financial year and disposal. Method: docs/methods.md#partnership-measures.';
comment on column kpi.rosh_profile.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.rosh_profile.financial_year is 'Financial year of the first assessment, e.g. 2024-25.';
comment on column kpi.rosh_profile.disposal is 'court (referral order, YRO, custody, resettlement, bail support) or out_of_court (cautions, community resolutions, Outcome 22).';
comment on column kpi.rosh_profile.assessed is 'Interventions with a RoSH assessment first made in the year.';
comment on column kpi.rosh_profile.rosh_low is 'RoSH Low.';
comment on column kpi.rosh_profile.rosh_medium is 'RoSH Medium.';
comment on column kpi.rosh_profile.rosh_high is 'RoSH High.';
comment on column kpi.rosh_profile.rosh_very_high is 'RoSH Very High.';
comment on column kpi.rosh_profile.medium_or_above is 'RoSH Medium, High or Very High.';
comment on column kpi.rosh_profile.medium_or_above_pct is 'medium_or_above / assessed, per cent.';
comment on column kpi.rosh_profile.medium_or_above_with_plan is 'Of those Medium or above, with a risk management plan in place.';
comment on column kpi.rosh_profile.with_plan_pct is 'medium_or_above_with_plan / medium_or_above, per cent.';
