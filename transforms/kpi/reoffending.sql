-- kpi.reoffending (grain, inputs and unique key: reoffending.yml)
-- Proven reoffending (docs/methods.md#reoffending), binary and frequency: of the children in the cohort (aged 10-17
-- at the index event: cautioned, convicted without custody, or released from custody in the period; see
-- conformed.reoffending_members for the rules), how many reoffended within 12 months (proven within a further 6),
-- and how many reoffences they committed, at any age. A rolling 12-month cohort adds up its four quarterly cohorts,
-- as the MoJ's annual figures do since October 2017: a child in two of the quarters counts twice.
-- follow_up_complete is false while the 18 months after the cohort's last index date are not yet over: such a
-- cohort's figures will still rise. kpi.reoffending_by_group splits the same cohorts.
create or replace view kpi.reoffending as
with

data_end as (
    select max(proven_date) as last_proven_date from conformed.proven_outcomes
),

final as (
    select
        la_code,
        cohort_type,
        cohort_start,
        cohort_end,
        count(*) as offenders,
        count(*) filter (where reoffences > 0) as reoffenders,
        sum(reoffences)::bigint as reoffences,
        percent(count(*) filter (where reoffences > 0), count(*)) as binary_rate_pct,
        rate_per(sum(reoffences), count(*) filter (where reoffences > 0), 1) as reoffences_per_reoffender,
        rate_per(sum(reoffences), count(*), 1) as reoffences_per_offender,
        max(index_date) + interval 18 month <= (select last_proven_date from data_end) as follow_up_complete
    from conformed.reoffending_cohorts
    group by la_code, cohort_type, cohort_start, cohort_end
)

select * from final
order by la_code, cohort_type, cohort_end;

comment on view kpi.reoffending is 'Proven reoffending (YJB KPIs: binary rate and frequency) by LA and cohort: children cautioned, convicted without custody, or released from custody in the period, and how many reoffended within 12 months (proven within a further 6). A rolling 12-month cohort is its four quarterly cohorts added up (a child can count in more than one), like the MoJ''s annual figures. Method: docs/methods.md#reoffending.';
comment on column kpi.reoffending.cohort_type is 'quarter (3-month cohort, the MoJ basis since 2017) or rolling_12_months (the four quarterly cohorts ending cohort_end, added up).';
comment on column kpi.reoffending.offenders is 'Children in the cohort (rolling: the four quarterly cohorts'' children added up).';
comment on column kpi.reoffending.reoffenders is 'Children in the cohort with at least one proven reoffence.';
comment on column kpi.reoffending.reoffences is 'Proven reoffences committed by the cohort in the follow-up year.';
comment on column kpi.reoffending.binary_rate_pct is 'reoffenders / offenders, per cent.';
comment on column kpi.reoffending.reoffences_per_reoffender is 'Frequency: reoffences / reoffenders.';
comment on column kpi.reoffending.reoffences_per_offender is 'Frequency: reoffences / offenders.';
comment on column kpi.reoffending.follow_up_complete is 'True when 18 months have passed since the cohort''s last index date (by the latest proven outcome held).';
comment on column kpi.reoffending.la_code is 'ONS code of the local authority of residence at the index event.';
comment on column kpi.reoffending.cohort_start is 'First day of the cohort period.';
comment on column kpi.reoffending.cohort_end is 'Last day of the cohort period.';
