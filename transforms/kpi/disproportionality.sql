-- kpi.disproportionality (grain, inputs and unique key: disproportionality.yml)
-- Whether children of some ethnic groups go further into the system than others for the same entry point: of the
-- children with a police outcome in the year, how many were charged rather than resolved out of court, how many
-- convicted, and how many sentenced to custody. The relative rate index compares each group's charge rate with
-- White children's (1.0 = the same; above 1 = more often charged); the board asks partners for this
-- (YJB KPI 7). Ethnicity is as the YOS records it, else the police (courts do not send it).
create or replace view kpi.disproportionality as
with

stages as (
    select o.child_key, o.home_la_code as la_code, financial_year_start(o.outcome_date) as fy_start,
           o.outcome_type = 1 as charged, o.outcome_type in (2, 8, 22, 23) as out_of_court,
           false as convicted, false as custody
    from conformed.outcomes as o
    union all
    select d.child_key, d.home_la_code, financial_year_start(d.hearing_date), false, false,
           d.verdict = 'convicted',
           d.verdict = 'convicted' and d.disposal_type in ('detention_training_order', 's250_detention',
                                                           'extended_sentence')
    from conformed.disposals as d
),

-- each child's stages in the LA and year, before the ethnic group is joined on: a child's ethnicity is one row
-- of conformed.children, so joining after grouping gives the same rows (at national size, fewer than half as many
-- rows joined: 3.5 of 7.6 million)
stages_of_child as (
    select
        la_code,
        fy_start,
        child_key,
        bool_or(charged) as charged,
        bool_or(out_of_court) as out_of_court,
        bool_or(convicted) as convicted,
        bool_or(custody) as custody
    from stages
    group by all
),

children as (
    select s.la_code, s.fy_start, ethnic_group(c.ethnicity) as ethnic_group, s.child_key, s.charged, s.out_of_court,
           s.convicted, s.custody
    from stages_of_child as s
    left join conformed.children as c using (child_key)
),

counted as (
    select
        la_code,
        fy_start,
        ethnic_group,
        count(*) as children,
        count(*) filter (where charged) as charged,
        count(*) filter (where out_of_court) as out_of_court,
        count(*) filter (where convicted) as convicted,
        count(*) filter (where custody) as custody
    from children
    group by all
),

final as (
    select
        c.la_code,
        financial_year_label(c.fy_start) as financial_year,
        c.ethnic_group,
        c.children,
        c.out_of_court,
        c.charged,
        percent(c.charged, c.children) as charged_pct,
        c.convicted,
        c.custody,
        rate_per(c.charged / c.children, w.charged / w.children, 1) as charged_relative_rate
    from counted as c
    left join counted as w on w.la_code = c.la_code and w.fy_start = c.fy_start and w.ethnic_group = 'White'
)

select * from final
order by la_code, financial_year, ethnic_group;

comment on view kpi.disproportionality is 'Disproportionality by ethnic group: children with a police outcome or court case, charged, convicted and sentenced to custody, and the relative rate of charge against White children, by LA and financial year. Method: docs/methods.md#partnership-measures.';
comment on column kpi.disproportionality.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.disproportionality.financial_year is 'Financial year of the outcome or hearing, e.g. 2024-25.';
comment on column kpi.disproportionality.ethnic_group is 'ONS 2021 high-level ethnic group: White, Mixed, Asian, Black, Other, or Not known.';
comment on column kpi.disproportionality.children is 'Children with a police outcome or a court case in the year.';
comment on column kpi.disproportionality.out_of_court is 'Of those, with an offence resolved out of court.';
comment on column kpi.disproportionality.charged is 'Of those, charged or summonsed.';
comment on column kpi.disproportionality.charged_pct is 'charged / children, per cent.';
comment on column kpi.disproportionality.convicted is 'Of those, convicted at court.';
comment on column kpi.disproportionality.custody is 'Of those, sentenced to custody.';
comment on column kpi.disproportionality.charged_relative_rate is 'Relative rate index: this group''s charged_pct divided by White children''s (1.0 = the same).';
