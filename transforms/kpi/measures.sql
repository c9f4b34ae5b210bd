-- kpi.measures (grain, inputs and unique key: measures.yml)
-- Every headline figure of the kpi views in one long table, each beside the published national (England) and
-- comparator (config: partnership.comparator, e.g. the region) values for the same measure and period from the
-- reference feed published_comparators, and the gap to each (local minus comparator, in the measure's unit).
-- This is what the board pack draws; kpi.measure_definitions lists every measure, with or without figures. Each row takes ONE cell of a kpi view (never a sum over rows; the one exception
-- is board attendance, which counts meetings, not children, and is never suppressed), so that published.measures,
-- which is this same query run over the published views, carries their disclosure control unchanged: a suppressed
-- figure is NULL with suppressed = true.
-- Periods are the ones each definition uses: calendar years for first time entrants, financial years otherwise;
-- reoffending uses the rolling 12-month cohort of the financial year (provisional while its follow-up is open).
-- A period that runs past the latest proven outcome held is a year to date, and provisional too.
create or replace view kpi.measures as
with

figures as (
    select 'first_time_entrants' as measure, la_code, year::varchar as period, make_date(year, 1, 1) as period_start,
           fte_count as numerator, population_10_17 as denominator, rate_per_100k as value, false as provisional
    from kpi.first_time_entrants
    union all
    select 'reoffending_binary', la_code, financial_year_label(year(cohort_start)), cohort_start, reoffenders,
           offenders, binary_rate_pct, not follow_up_complete
    from kpi.reoffending where cohort_type = 'rolling_12_months' and month(cohort_start) = 4
    union all
    select 'reoffending_frequency', la_code, financial_year_label(year(cohort_start)), cohort_start, reoffences,
           reoffenders, reoffences_per_reoffender, not follow_up_complete
    from kpi.reoffending where cohort_type = 'rolling_12_months' and month(cohort_start) = 4
    union all
    select 'custody_rate', la_code, financial_year, fy_date(financial_year), custodial_sentences, population_10_17,
           custody_rate_per_1000, false
    from kpi.custody
    where rate_note is null  -- no population held: no rate to draw (the count is in kpi.custody)
    union all
    select 'kpi1_accommodation', la_code, financial_year, fy_date(financial_year), suitable, children, suitable_pct,
           false
    from kpi.accommodation
    union all
    select 'kpi2_ete', la_code, financial_year, fy_date(financial_year), suitable, children, suitable_pct, false
    from kpi.ete
    union all
    select 'kpi3_send', la_code, financial_year, fy_date(financial_year), with_plan_and_suitable_ete,
           send_identified, with_plan_and_suitable_ete_pct, false
    from kpi.send_aln
    union all
    select 'kpi4_mental_health_offered', la_code, financial_year, fy_date(financial_year), offered, with_need,
           offered_pct, false
    from kpi.health_needs where need = 'mental_health'
    union all
    select 'kpi4_mental_health_attending', la_code, financial_year, fy_date(financial_year), attending, offered,
           attending_pct, false
    from kpi.health_needs where need = 'mental_health'
    union all
    select 'kpi5_substance_misuse_offered', la_code, financial_year, fy_date(financial_year), offered, with_need,
           offered_pct, false
    from kpi.health_needs where need = 'substance_misuse'
    union all
    select 'kpi5_substance_misuse_attending', la_code, financial_year, fy_date(financial_year), attending, offered,
           attending_pct, false
    from kpi.health_needs where need = 'substance_misuse'
    union all
    select 'kpi6_oocd_completion', la_code, financial_year, fy_date(financial_year), oocd_interventions_completed,
           oocd_interventions_ended, oocd_completion_pct, false
    from kpi.oocd_usage
    union all
    select 'kpi7_board_attendance', la_code, financial_year, fy_date(financial_year), sum(attended), sum(meetings),
           percent(sum(attended), sum(meetings)), false
    from kpi.board_attendance group by la_code, financial_year
    union all
    select 'kpi8_wider_services', la_code, financial_year, fy_date(financial_year), known_to_wider_services,
           children, known_to_wider_services_pct, false
    from kpi.wider_services
    union all
    select 'kpi9_serious_violence', la_code, financial_year, fy_date(financial_year), serious_violence_offences,
           population_10_17, rate_per_10k, false
    from kpi.serious_violence
    union all
    select 'kpi10_victims_rj', la_code, financial_year, fy_date(financial_year), rj_engaged, consented_to_contact,
           rj_engaged_pct, false
    from kpi.victims
    union all
    select 'oocd_share', la_code, financial_year, fy_date(financial_year), oocd_total, oocd_total + charged,
           oocd_share_pct, false
    from kpi.oocd_usage
    union all
    select 'rosh_plan_' || disposal, la_code, financial_year, fy_date(financial_year), medium_or_above_with_plan,
           medium_or_above, with_plan_pct, false
    from kpi.rosh_profile
    union all
    select 'violent_offences', la_code, financial_year, fy_date(financial_year), violent_offences, offences,
           violent_pct, false
    from kpi.offence_profile
    union all
    select 'knife_or_weapon_offences', la_code, financial_year, fy_date(financial_year), knife_or_weapon_offences,
           offences, knife_or_weapon_pct, false
    from kpi.offence_profile
    union all
    select 'child_on_parent_violence', la_code, financial_year, fy_date(financial_year), child_on_parent_violence,
           null, child_on_parent_violence, false
    from kpi.offence_profile
    union all
    select 'out_of_court_' || care_status, la_code, financial_year, fy_date(financial_year), out_of_court,
           out_of_court + charged, out_of_court_pct, false
    from kpi.children_in_care
    union all
    select 'care_incidents_not_criminalised', la_code, financial_year, fy_date(financial_year),
           resolved_without_criminalisation, incidents, resolved_without_criminalisation_pct, false
    from kpi.care_police_incidents
    union all
    select 'custody_transfers_achieved', la_code, financial_year, fy_date(financial_year), transfers_achieved,
           transfers_requested, transfers_achieved_pct, false
    from kpi.custody_transfers
    union all
    select 'resettlement_ready', la_code, financial_year, fy_date(financial_year), both_in_place, custody_leavers,
           both_in_place_pct, false
    from kpi.resettlement
    union all
    select 'sibling_prevention_reach', la_code, financial_year, fy_date(financial_year), children_reached, null,
           children_reached, false
    from kpi.sibling_prevention
    union all
    select 'charged_relative_rate_' || lower(ethnic_group), la_code, financial_year, fy_date(financial_year),
           charged, children, charged_relative_rate, false
    from kpi.disproportionality where ethnic_group not in ('White', 'Not known')
),

definitions as (
    select * from kpi.measure_definitions
),

comparators as (
    select measure, area_code, period, value from core.published_comparators
),

data_end as (
    select max(proven_date) as last_date from conformed.proven_outcomes
),

final as (
    select
        d.ordinal,
        d.kpi,
        f.measure,
        d.title,
        f.la_code,
        f.period,
        f.period_start,
        f.numerator,
        f.denominator,
        f.value,
        d.unit,
        d.better,
        f.provisional or case when f.period like '____-__' then fy_date(f.period) + interval 1 year
                              else make_date(f.period::integer + 1, 1, 1) end
            > (select last_date + interval 1 day from data_end)
            as provisional,
        f.value is null and coalesce(f.denominator, 1) <> 0 as suppressed,
        e.value as england_value,
        round(f.value - e.value, 2) as gap_to_england,
        a.comparator_area_name as comparator_name,
        c.value as comparator_value,
        round(f.value - c.value, 2) as gap_to_comparator,
        d.definition
    from figures as f
    inner join definitions as d using (measure)
    cross join core.partnership as a
    left join comparators as e
        on e.measure = d.comparator_measure and e.area_code = 'E92000001' and e.period = f.period
    left join comparators as c
        on c.measure = d.comparator_measure and c.area_code = a.comparator_area_code and c.period = f.period
)

select * from final
order by ordinal, la_code, period_start;

comment on view kpi.measures is 'Every headline figure of the kpi views, one row per measure, LA and period, beside the England and comparator values and the gaps: what the board pack draws. Method: docs/methods.md#board-pack.';
comment on column kpi.measures.ordinal is 'Order of the measure in the board pack: headline, the YJB KPIs 1-10, then the partnership''s own.';
comment on column kpi.measures.kpi is 'The KPI or partnership theme the measure belongs to.';
comment on column kpi.measures.measure is 'Measure code (stable; the published_comparators measure it is compared with is in the view''s definition).';
comment on column kpi.measures.title is 'The measure in a few words.';
comment on column kpi.measures.la_code is 'ONS code of the local authority.';
comment on column kpi.measures.period is 'The period the definition uses: a calendar year (2024) or a financial year (2024-25).';
comment on column kpi.measures.period_start is 'First day of the period.';
comment on column kpi.measures.numerator is 'What is counted (see the source view).';
comment on column kpi.measures.denominator is 'What it is counted out of; NULL for a plain count.';
comment on column kpi.measures.value is 'The figure: a rate, a per cent, a ratio, or a count (see unit).';
comment on column kpi.measures.unit is 'The unit of value and of the gaps.';
comment on column kpi.measures.better is 'Which way is better: lower, higher, or NULL where neither is.';
comment on column kpi.measures.provisional is 'True while the figure can still change: the period runs past the latest proven outcome held (a year to date), or it is a reoffending cohort whose follow-up is open.';
comment on column kpi.measures.suppressed is 'True where disclosure control removed the figure (published schema only).';
comment on column kpi.measures.england_value is 'The published England value for the same measure and period (published_comparators).';
comment on column kpi.measures.gap_to_england is 'value minus england_value.';
comment on column kpi.measures.comparator_name is 'The comparator area (config partnership.comparator).';
comment on column kpi.measures.comparator_value is 'The published comparator value for the same measure and period.';
comment on column kpi.measures.gap_to_comparator is 'value minus comparator_value.';
comment on column kpi.measures.definition is 'The definition in a sentence.';
