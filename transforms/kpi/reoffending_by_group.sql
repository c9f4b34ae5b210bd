-- kpi.reoffending_by_group (grain, inputs and unique key: reoffending_by_group.yml)
-- The cohorts of kpi.reoffending split five ways, so the board can see who reoffends: age band at the index
-- event (10-14, 15-17), sex, ethnic group, the index disposal (caution = out of court, court order without
-- custody, release from custody) and care status. Within one cohort and split, the groups add up to the cohort's
-- row in kpi.reoffending.
create or replace view kpi.reoffending_by_group as
with

grouped as (
    unpivot conformed.reoffending_cohorts
    on age_band, sex, ethnic_group, index_disposal, care_status
    into name split value group_value
),

final as (
    select
        la_code,
        cohort_type,
        cohort_start,
        cohort_end,
        split,
        group_value,
        count(*) as offenders,
        count(*) filter (where reoffences > 0) as reoffenders,
        sum(reoffences)::bigint as reoffences,
        percent(count(*) filter (where reoffences > 0), count(*)) as binary_rate_pct,
        rate_per(sum(reoffences), count(*) filter (where reoffences > 0), 1) as reoffences_per_reoffender,
        rate_per(sum(reoffences), count(*), 1) as reoffences_per_offender
    from grouped
    group by la_code, cohort_type, cohort_start, cohort_end, split, group_value
)

select * from final
order by la_code, cohort_type, cohort_end, split, group_value;

comment on view kpi.reoffending_by_group is 'Proven reoffending split by age band, sex, ethnic group, index disposal (out of court or court) and care status, by LA and cohort; the groups of a split add up to kpi.reoffending. Method: docs/methods.md#reoffending.';
comment on column kpi.reoffending_by_group.la_code is 'ONS code of the local authority of residence at the index event.';
comment on column kpi.reoffending_by_group.cohort_type is 'quarter or rolling_12_months (as kpi.reoffending).';
comment on column kpi.reoffending_by_group.cohort_start is 'First day of the cohort period.';
comment on column kpi.reoffending_by_group.cohort_end is 'Last day of the cohort period.';
comment on column kpi.reoffending_by_group.split is 'age_band, sex, ethnic_group, index_disposal or care_status.';
comment on column kpi.reoffending_by_group.group_value is 'The group within the split, e.g. 15-17, F, Black, caution, looked_after.';
comment on column kpi.reoffending_by_group.offenders is 'Children of the group in the cohort.';
comment on column kpi.reoffending_by_group.reoffenders is 'Of those, with at least one proven reoffence.';
comment on column kpi.reoffending_by_group.reoffences is 'Proven reoffences they committed in the follow-up year.';
comment on column kpi.reoffending_by_group.binary_rate_pct is 'reoffenders / offenders, per cent.';
comment on column kpi.reoffending_by_group.reoffences_per_reoffender is 'reoffences / reoffenders.';
comment on column kpi.reoffending_by_group.reoffences_per_offender is 'reoffences / offenders.';
