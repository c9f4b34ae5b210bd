-- kpi.measure_definitions (grain, inputs and unique key: measure_definitions.yml)
-- Every measure of the board pack, whether or not it has a figure yet: its order, KPI, title, unit, which way is
-- better, the published_comparators measure it is compared with, its definition in a sentence, and the feeds it is
-- computed from (so the board pack can say why a measure has no figure: a feed held back, or never loaded).
-- Each measure's full method: docs/methods.md.
create or replace view kpi.measure_definitions as
select * from (
    values
    (1, 'first_time_entrants', 'Headline', 'First time entrants', 'per 100,000 aged 10-17', 'lower', 'FirstYJS',
     'Children aged 10-17 receiving their first youth caution, youth conditional caution or conviction in the calendar year, per 100,000 children aged 10-17 living in the area.', ['police_outcomes', 'court_disposals', 'population_10_17']),
    (2, 'reoffending_binary', 'Headline', 'Proven reoffending rate', '%', 'lower', 'ReoffYO',
     'Of the children cautioned, convicted or released from custody in the year, the share who committed a further offence within 12 months that was proven within 18.', ['police_outcomes', 'court_disposals']),
    (3, 'reoffending_frequency', 'Headline', 'Reoffences per reoffender', 'reoffences', 'lower', 'ReoffFreq',
     'The number of proven reoffences, on average, of each child in the reoffending cohort who reoffended.', ['police_outcomes', 'court_disposals']),
    (4, 'custody_rate', 'Headline', 'Use of custody', 'per 1,000 aged 10-17', 'lower', 'CustodyRate',
     'Custodial sentences (DTO, s250, extended) given to children in the financial year, per 1,000 children aged 10-17.', ['court_disposals', 'population_10_17']),
    (5, 'kpi1_accommodation', 'YJB KPI 1 Accommodation', 'Suitable accommodation', '%', 'higher', 'kpi1_accommodation',
     'Children whose intervention ended, or who were released from custody, in the year with suitable accommodation at that point.', ['yos_interventions']),
    (6, 'kpi2_ete', 'YJB KPI 2 ETE', 'Suitable education, training or employment', '%', 'higher', 'kpi2_ete',
     'Children whose intervention ended, or who were released from custody, in the year attending suitable ETE at that point.', ['yos_interventions']),
    (7, 'kpi3_send', 'YJB KPI 3 SEND/ALN', 'SEND: suitable ETE and a learning plan', '%', 'higher', 'kpi3_send',
     'Of the children with identified special educational needs, the share in suitable ETE with a formal learning plan.', ['yos_interventions']),
    (8, 'kpi4_mental_health_offered', 'YJB KPI 4 Mental health', 'Mental health need: intervention offered', '%',
     'higher', 'kpi4_mental_health_offered',
     'Of the children with a screened or identified mental health or emotional wellbeing need, the share with an intervention planned or offered.', ['yos_interventions']),
    (9, 'kpi4_mental_health_attending', 'YJB KPI 4 Mental health', 'Mental health: attending', '%', 'higher',
     'kpi4_mental_health_attending', 'Of the children offered a mental health intervention, the share attending it.', ['yos_interventions']),
    (10, 'kpi5_substance_misuse_offered', 'YJB KPI 5 Substance misuse', 'Substance misuse need: treatment offered', '%',
     'higher', 'kpi5_substance_misuse_offered',
     'Of the children with a screened or identified need for specialist substance misuse treatment, the share with treatment planned or offered.', ['yos_interventions']),
    (11, 'kpi5_substance_misuse_attending', 'YJB KPI 5 Substance misuse', 'Substance misuse: attending', '%', 'higher',
     'kpi5_substance_misuse_attending', 'Of the children offered substance misuse treatment, the share attending it.', ['yos_interventions']),
    (12, 'kpi6_oocd_completion', 'YJB KPI 6 Out-of-court disposals', 'Out-of-court disposals completed', '%', 'higher',
     'kpi6_oocd_completion', 'Of the out-of-court disposal interventions that ended in the year, the share completed.', ['yos_interventions']),
    (13, 'kpi7_board_attendance', 'YJB KPI 7 Management board', 'Board attendance by statutory partners', '%', 'higher',
     'kpi7_board_attendance', 'Of the statutory partners'' places at management board meetings in the year, the share attended.', ['board_attendance']),
    (14, 'kpi8_wider_services', 'YJB KPI 8 Wider services', 'Known to wider services', '%', null, 'kpi8_wider_services',
     'Children on the caseload also known to Early Help, child protection, child in need, or looked after or a care leaver.', ['yos_interventions']),
    (15, 'kpi9_serious_violence', 'YJB KPI 9 Serious violence', 'Proven serious violence', 'per 10,000 aged 10-17',
     'lower', 'kpi9_serious_violence',
     'Proven drugs, robbery or violence against the person offences with a YJB gravity score of 5 or more, per 10,000 children aged 10-17.', ['police_outcomes', 'court_disposals', 'population_10_17']),
    (16, 'kpi10_victims_rj', 'YJB KPI 10 Victims', 'Victims engaged in restorative justice', '%', 'higher',
     'kpi10_victims_rj', 'Of the victims who consented to be contacted, the share who engaged in restorative justice.', ['yos_victims']),
    (17, 'oocd_share', 'Partnership: out-of-court disposals', 'Resolved out of court', '%', null, null,
     'Of children''s offences resolved by an out-of-court disposal (youth caution, community resolution, Outcome 22/23) or a charge, the share resolved out of court.', ['police_outcomes', 'yos_interventions']),
    (18, 'rosh_plan_court', 'Partnership: risk of serious harm', 'RoSH Medium or above with a plan: court', '%',
     'higher', null, 'Of children starting a court order assessed as RoSH Medium or above, the share with a risk management plan.', ['yos_assessments', 'yos_interventions']),
    (19, 'rosh_plan_out_of_court', 'Partnership: risk of serious harm', 'RoSH Medium or above with a plan: out of court',
     '%', 'higher', null, 'Of children starting an out-of-court disposal assessed as RoSH Medium or above, the share with a risk management plan.', ['yos_assessments', 'yos_interventions']),
    (20, 'violent_offences', 'Partnership: offences', 'Violent offences', '%', 'lower', null,
     'Of children''s offences recorded by the police, the share that were violence against the person or robbery.', ['police_outcomes']),
    (21, 'knife_or_weapon_offences', 'Partnership: offences', 'Knife and weapon offences', '%', 'lower', null,
     'Of children''s offences recorded by the police, the share involving a knife, firearm or other weapon, or possession of one.', ['police_outcomes']),
    (22, 'child_on_parent_violence', 'Partnership: offences', 'Child-on-parent violence', 'offences', 'lower', null,
     'Violence against the person offences by children where the victim was their parent or carer.', ['police_outcomes']),
    (23, 'out_of_court_looked_after', 'Partnership: children in care', 'Children in care: resolved out of court', '%',
     'higher', null, 'Of offences by looked-after children resolved out of court or by charge, the share resolved out of court.', ['police_outcomes', 'cic_header']),
    (24, 'out_of_court_not_looked_after', 'Partnership: children in care', 'Other children: resolved out of court', '%',
     'higher', null, 'Of offences by children not looked after resolved out of court or by charge, the share resolved out of court.', ['police_outcomes', 'cic_header']),
    (25, 'care_incidents_not_criminalised', 'Partnership: children in care', 'Placement call-outs not criminalised', '%',
     'higher', null, 'Of police call-outs involving looked-after children at or from a placement, the share resolved without criminalising the child.', ['cic_police_incidents']),
    (26, 'custody_transfers_achieved', 'Partnership: children in care', 'Custody transfers achieved (concordat)', '%',
     'higher', null, 'Of children charged and refused bail for whom local authority accommodation was requested, the share transferred.', ['custody_transfers']),
    (27, 'resettlement_ready', 'Partnership: resettlement', 'Custody leavers with accommodation and ETE', '%', 'higher',
     null, 'Of children released from custody, the share with suitable accommodation and a suitable ETE place at release.', ['yos_interventions']),
    (28, 'sibling_prevention_reach', 'Partnership: prevention', 'Siblings reached by prevention', 'children', 'higher',
     null, 'Brothers and sisters of supervised children starting prevention work in the year.', ['yos_interventions']),
    (29, 'charged_relative_rate_mixed', 'Partnership: disproportionality', 'Charged, relative to White children: Mixed',
     'ratio', null, null, 'The share of Mixed-ethnicity children with an outcome who were charged, divided by the same share for White children (1.0 = the same).', ['police_outcomes']),
    (30, 'charged_relative_rate_asian', 'Partnership: disproportionality', 'Charged, relative to White children: Asian',
     'ratio', null, null, 'The share of Asian children with an outcome who were charged, divided by the same share for White children (1.0 = the same).', ['police_outcomes']),
    (31, 'charged_relative_rate_black', 'Partnership: disproportionality', 'Charged, relative to White children: Black',
     'ratio', null, null, 'The share of Black children with an outcome who were charged, divided by the same share for White children (1.0 = the same).', ['police_outcomes']),
    (32, 'charged_relative_rate_other', 'Partnership: disproportionality', 'Charged, relative to White children: Other',
     'ratio', null, null, 'The share of children of other ethnic groups with an outcome who were charged, divided by the same share for White children (1.0 = the same).', ['police_outcomes'])
) as d(ordinal, measure, kpi, title, unit, better, comparator_measure, definition, feeds);

comment on view kpi.measure_definitions is 'Every measure of kpi.measures and the board pack, with or without figures: order, KPI, title, unit, better direction, comparator measure, definition and the feeds it is computed from. Method: docs/methods.md.';
comment on column kpi.measure_definitions.ordinal is 'Order of the measure in the board pack.';
comment on column kpi.measure_definitions.measure is 'Measure code, as in kpi.measures.';
comment on column kpi.measure_definitions.kpi is 'The KPI or partnership theme the measure belongs to.';
comment on column kpi.measure_definitions.title is 'The measure in a few words.';
comment on column kpi.measure_definitions.unit is 'The unit of the measure''s value.';
comment on column kpi.measure_definitions.better is 'Which way is better: lower, higher, or NULL where neither is.';
comment on column kpi.measure_definitions.comparator_measure is 'The published_comparators measure it is compared with; NULL where nothing is published.';
comment on column kpi.measure_definitions.definition is 'The definition in a sentence.';
comment on column kpi.measure_definitions.feeds is 'The feeds the measure is computed from.';
