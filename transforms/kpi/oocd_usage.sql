-- kpi.oocd_usage (grain, inputs and unique key: oocd_usage.yml)
-- Out-of-court disposals (domain.md 4.1, 4.2): how police resolved children's offences, by the Home Office outcome
-- groups, and how many OOCD interventions the YOS completed. No national LA-level OOCD figures are published
-- (HMIP/HMICFRS 2025); this is the partnership's own.
--   formal OOCD    = youth caution and youth conditional caution (outcome 2; conditional when Child Gravity Matrix 4)
--   informal OOCD  = community resolution (outcome 8)
--   diversion      = Outcome 22 and Outcome 23 (deferred prosecution)
--   charged        = charged or summonsed (outcome 1)
-- oocd_share_pct is OOCDs of all OOCDs plus charges. Completion (YJB KPI 6) counts OOCD interventions that ended in
-- the year and how many ended 'completed'.
create or replace view kpi.oocd_usage as
with

outcomes as (
    select
        home_la_code as la_code,
        financial_year_start(outcome_date) as fy_start,
        outcome_type,
        child_gravity_matrix
    from core.police_outcomes
),

by_type as (
    select
        la_code,
        fy_start,
        count(*) filter (where outcome_type = 2 and coalesce(child_gravity_matrix, 0) <> 4) as youth_cautions,
        count(*) filter (where outcome_type = 2 and child_gravity_matrix = 4) as youth_conditional_cautions,
        count(*) filter (where outcome_type = 8) as community_resolutions,
        count(*) filter (where outcome_type = 22) as outcome_22,
        count(*) filter (where outcome_type = 23) as outcome_23,
        count(*) filter (where outcome_type = 1) as charged
    from outcomes
    group by all
),

completion as (
    select
        home_la_code as la_code,
        financial_year_start(end_date) as fy_start,
        count(*) as oocd_interventions_ended,
        count(*) filter (where end_reason = 'completed') as oocd_interventions_completed
    from core.yos_interventions
    where intervention_type in ('community_resolution', 'outcome_22', 'youth_caution', 'youth_conditional_caution')
        and end_date is not null
    group by all
),

final as (
    select
        t.la_code,
        financial_year_label(t.fy_start) as financial_year,
        t.youth_cautions + t.youth_conditional_cautions as formal_oocd,
        t.community_resolutions as informal_oocd,
        t.outcome_22 + t.outcome_23 as diversion,
        t.youth_cautions,
        t.youth_conditional_cautions,
        t.community_resolutions,
        t.outcome_22,
        t.outcome_23,
        t.charged,
        t.youth_cautions + t.youth_conditional_cautions + t.community_resolutions + t.outcome_22 + t.outcome_23
            as oocd_total,
        percent(t.youth_cautions + t.youth_conditional_cautions + t.community_resolutions + t.outcome_22
            + t.outcome_23, t.youth_cautions + t.youth_conditional_cautions + t.community_resolutions
            + t.outcome_22 + t.outcome_23 + t.charged) as oocd_share_pct,
        coalesce(c.oocd_interventions_ended, 0) as oocd_interventions_ended,
        coalesce(c.oocd_interventions_completed, 0) as oocd_interventions_completed,
        percent(c.oocd_interventions_completed, c.oocd_interventions_ended) as oocd_completion_pct
    from by_type as t
    left join completion as c using (la_code, fy_start)
)

select * from final
order by la_code, financial_year;

comment on view kpi.oocd_usage is 'Out-of-court disposal use by LA and financial year: formal (youth cautions), informal (community resolutions) and diversion (Outcome 22/23) against charges, and OOCD completion (YJB KPI 6). The figure inspectors say nobody publishes. Method: docs/methods.md#yjb-kpis-1-10.';
comment on column kpi.oocd_usage.formal_oocd is 'Youth cautions and youth conditional cautions (outcome 2).';
comment on column kpi.oocd_usage.informal_oocd is 'Community resolutions (outcome 8).';
comment on column kpi.oocd_usage.diversion is 'Outcome 22 and Outcome 23.';
comment on column kpi.oocd_usage.charged is 'Charged or summonsed (outcome 1).';
comment on column kpi.oocd_usage.oocd_share_pct is 'OOCDs as a share of OOCDs plus charges, per cent.';
comment on column kpi.oocd_usage.oocd_completion_pct is 'OOCD interventions ended in the year that ended completed, per cent.';
comment on column kpi.oocd_usage.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.oocd_usage.financial_year is 'Financial year of the police outcome (or of the intervention''s end, for completion), e.g. 2024-25.';
comment on column kpi.oocd_usage.youth_cautions is 'Youth cautions (outcome 2, not conditional).';
comment on column kpi.oocd_usage.youth_conditional_cautions is 'Youth conditional cautions (outcome 2 with Child Gravity Matrix 4).';
comment on column kpi.oocd_usage.community_resolutions is 'Community resolutions (outcome 8).';
comment on column kpi.oocd_usage.outcome_22 is 'Outcome 22: diversionary, educational or intervention activity.';
comment on column kpi.oocd_usage.outcome_23 is 'Outcome 23: deferred prosecution.';
comment on column kpi.oocd_usage.oocd_total is 'All out-of-court disposals: formal_oocd + informal_oocd + diversion.';
comment on column kpi.oocd_usage.oocd_interventions_ended is 'YOS OOCD interventions that ended in the year.';
comment on column kpi.oocd_usage.oocd_interventions_completed is 'Of those, the ones that ended completed.';
