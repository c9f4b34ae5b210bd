-- kpi.offence_profile (grain, inputs and unique key: offence_profile.yml)
-- What children's offences are, as the police recorded them (every offence reaches the police, so court records are
-- not added twice): the share that are violent (violence against the person or robbery), child-on-parent violence
-- (violence against the person where the victim is the child's parent or carer), knife and weapon offences (a
-- knife, firearm or other weapon involved, or possession of a weapon), and serious violence (YJB KPI 9 definition,
-- whatever the outcome). Counted by the financial year of the offence.
create or replace view kpi.offence_profile as
with

police_recorded as (
    select *, financial_year_start(offence_date) as fy_start
    from conformed.offences
    where source_feed = 'police_outcomes'
),

final as (
    select
        home_la_code as la_code,
        financial_year_label(fy_start) as financial_year,
        count(*) as offences,
        count(*) filter (where offence_category in ('violence_against_person', 'robbery')) as violent_offences,
        percent(count(*) filter (where offence_category in ('violence_against_person', 'robbery')), count(*))
            as violent_pct,
        count(*) filter (where offence_category = 'violence_against_person' and is_child_on_parent_violence_candidate)
            as child_on_parent_violence,
        count(*) filter (where is_knife_or_weapon) as knife_or_weapon_offences,
        percent(count(*) filter (where is_knife_or_weapon), count(*)) as knife_or_weapon_pct,
        count(*) filter (where weapon = 'knife') as knife_offences,
        count(*) filter (where is_serious_violence) as serious_violence_offences
    from police_recorded
    group by home_la_code, fy_start
)

select * from final
order by la_code, financial_year;

comment on view kpi.offence_profile is 'Children''s offences recorded by the police: violent share, child-on-parent violence, knife and weapon offences, serious violence, by LA and financial year of the offence. Method: docs/methods.md#partnership-measures.';
comment on column kpi.offence_profile.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.offence_profile.financial_year is 'Financial year of the offence, e.g. 2024-25.';
comment on column kpi.offence_profile.offences is 'Offences by children with a police outcome (any outcome type).';
comment on column kpi.offence_profile.violent_offences is 'Violence against the person or robbery.';
comment on column kpi.offence_profile.violent_pct is 'violent_offences / offences, per cent.';
comment on column kpi.offence_profile.child_on_parent_violence is 'Violence against the person where the victim is the child''s parent or carer.';
comment on column kpi.offence_profile.knife_or_weapon_offences is 'A knife, firearm or other weapon involved, or possession of a weapon.';
comment on column kpi.offence_profile.knife_or_weapon_pct is 'knife_or_weapon_offences / offences, per cent.';
comment on column kpi.offence_profile.knife_offences is 'A knife involved.';
comment on column kpi.offence_profile.serious_violence_offences is 'Drugs, robbery or violence against the person with YJB gravity 5 or more, proven or not.';
