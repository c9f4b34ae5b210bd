-- conformed.children (grain, inputs and unique key: children.yml)
-- What the partnership knows of the child, minimised: month of birth (never the date), sex and ethnicity as the
-- YOS records them (else the police), and which agencies know the child.
-- Police and court rows come through conformed.outcomes and conformed.disposals, already keyed to their child.
-- Each branch joins what it needs itself: as one CTE of identifiers read four times, DuckDB copied every identifier
-- first, which at national size was the slower plan (measured: bench/NOTES.md).
create or replace view conformed.children as
with

facts as (
    select i.child_key, y.dob_month as birth_month, y.sex, y.ethnicity, y.home_la_code, 1 as source_rank,
           case when y.looked_after or y.care_leaver then 'yos_care' else 'yos' end as agency
    from core.yos_interventions as y
    join conformed.child_identifiers as i on i.identifier_kind = 'yos' and i.identifier = y.yos_child_id
    union all
    select child_key, dob_month, sex, ethnicity, home_la_code, 2, 'police'
    from conformed.outcomes
    where child_key is not null
    union all
    select child_key, dob_month, sex, null, home_la_code, 3, 'courts'
    from conformed.disposals
    where child_key is not null
    union all
    select i.child_key, h."DOB_month", null, null, null, 4, 'childrens_social_care'
    from core.cic_header as h
    join conformed.child_identifiers as i on i.identifier_kind = 'la_child' and i.identifier = h."CHILD"
),

final as (
    select
        child_key,
        min_by(birth_month, source_rank) as birth_month,
        min_by(sex, source_rank) filter (where sex is not null) as sex,
        min_by(ethnicity, source_rank) filter (where ethnicity is not null) as ethnicity,
        min_by(home_la_code, source_rank) filter (where home_la_code is not null) as home_la_code,
        bool_or(agency in ('yos', 'yos_care')) as is_known_to_yos,
        bool_or(agency = 'police') as is_known_to_police,
        bool_or(agency = 'courts') as is_known_to_courts,
        bool_or(agency in ('childrens_social_care', 'yos_care')) as is_looked_after
    from facts
    group by child_key
)

select * from final;

comment on view conformed.children is 'One row per child known to any partner: month of birth, sex, ethnicity, LA, and which agencies know the child. Pseudonymised and minimised.';
comment on column conformed.children.child_key is 'The child (see conformed.child_identifiers).';
comment on column conformed.children.birth_month is 'Month of birth (first day of the month); the date of birth is never stored.';
comment on column conformed.children.sex is 'As the YOS records it, else the police, else the courts.';
comment on column conformed.children.ethnicity is 'ONS 2021 ethnic group, as the YOS records it, else the police.';
comment on column conformed.children.home_la_code is 'Local authority of residence, as the YOS records it, else the police, else the courts.';
comment on column conformed.children.is_known_to_yos is 'The YOS has worked with the child (any intervention, prevention included).';
comment on column conformed.children.is_known_to_police is 'The police have an offence outcome for the child.';
comment on column conformed.children.is_known_to_courts is 'A court has sentenced or tried the child.';
comment on column conformed.children.is_looked_after is 'The child is in the SSDA903 return (looked after in the collection year), or the YOS recorded the child as looked after or a care leaver.';
