-- kpi.serious_violence (grain, inputs and unique key: serious_violence.yml)
-- YJB KPI 9, serious violence (domain.md 2, 3): proven offences of serious violence by children, per 10,000 of the
-- LA's 10-17 population. Serious violence is any drugs, robbery or violence against the person offence with a YJB
-- gravity score of 5 or more; the police Child Gravity Matrix never decides it. Proven means a youth caution, youth
-- conditional caution or conviction (conformed.proven_outcomes): every child with one is on the YOS caseload.
-- Counted once per proven outcome, in the financial year it was proven.
create or replace view kpi.serious_violence as
with

offences as (
    select
        la_code,
        financial_year_start(proven_date) as fy_start,
        offence_category
    from conformed.proven_outcomes
    where gravity_score >= 5 and offence_category in ('drugs', 'robbery', 'violence_against_person')
        and age_at_offence between 10 and 17  -- proven outcomes hold adults' too (for reoffending)
),

counted as (
    select
        la_code,
        fy_start,
        count(*) as serious_violence_offences,
        count(*) filter (where offence_category = 'violence_against_person') as violence_against_person,
        count(*) filter (where offence_category = 'robbery') as robbery,
        count(*) filter (where offence_category = 'drugs') as drugs
    from offences
    group by all
),

years_with_data as (
    select distinct financial_year_start(proven_date) as year from conformed.proven_outcomes
),

final as (
    select
        p.la_code,
        financial_year_label(p.year) as financial_year,
        coalesce(c.serious_violence_offences, 0) as serious_violence_offences,
        coalesce(c.violence_against_person, 0) as violence_against_person,
        coalesce(c.robbery, 0) as robbery,
        coalesce(c.drugs, 0) as drugs,
        p.population as population_10_17,
        rate_per(coalesce(c.serious_violence_offences, 0), p.population, 10000) as rate_per_10k
    from core.population_10_17 as p
    inner join years_with_data using (year)
    left join counted as c on c.la_code = p.la_code and c.fy_start = p.year
)

select * from final
order by la_code, financial_year;

comment on view kpi.serious_violence is 'YJB KPI 9: proven serious violence offences by children (drugs, robbery or violence against the person with YJB gravity 5 or more) per 10,000 aged 10-17, by LA and financial year. Method: docs/methods.md#yjb-kpis-1-10.';
comment on column kpi.serious_violence.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.serious_violence.financial_year is 'Financial year in which the offence was proven, e.g. 2024-25.';
comment on column kpi.serious_violence.serious_violence_offences is 'Proven serious violence offences (once per caution or conviction).';
comment on column kpi.serious_violence.violence_against_person is 'Of those, violence against the person.';
comment on column kpi.serious_violence.robbery is 'Of those, robbery.';
comment on column kpi.serious_violence.drugs is 'Of those, drugs.';
comment on column kpi.serious_violence.population_10_17 is 'ONS mid-year estimate of 10-17-year-olds for the year the financial year starts.';
comment on column kpi.serious_violence.rate_per_10k is 'serious_violence_offences per 10,000 of population_10_17 (the KPI).';
