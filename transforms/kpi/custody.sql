-- kpi.custody (grain, inputs and unique key: custody.yml)
-- Use of custody (docs/methods.md#custody): custodial sentences (Detention and Training Order, s250 detention,
-- extended sentence, detention for life) given to children aged 10-17 at the offence and resident in the LA, per
-- 1,000 of the LA's 10-17 population (mid-year estimate of the year the financial year starts). Counted once per
-- child and hearing: concurrent sentences for several offences passed at one hearing are one custodial sentence.
-- Remands to youth detention accommodation are counted beside them, once per child and hearing too.
-- Where the population of an LA and year is not held, the counts still show, with no rate and rate_note saying why.
create or replace view kpi.custody as
with

sentences as (
    select
        home_la_code as la_code,
        financial_year_start(hearing_date) as fy_start,
        coalesce(child_key, 'pnc:' || pnc_id, 'disposal:' || disposal_id) as child_key,
        hearing_date,
        is_custodial_disposal(disposal_type) and verdict = 'convicted' as is_custodial,
        remand_status = 'remand_youth_detention' as is_remand
    from conformed.disposals
    where age_at_offence between 10 and 17
),

counted as (
    select la_code, fy_start,
           count(distinct (child_key, hearing_date)) filter (where is_custodial) as custodial_sentences,
           count(distinct (child_key, hearing_date)) filter (where is_remand) as remands_youth_detention
    from sentences
    group by all
),

years as (
    select distinct fy_start as year from sentences
),

cells as (
    -- every LA with a population row or a sentence, in every year with a court disposal
    select la_code, year from core.population_10_17 where year in (select year from years)
    union
    select la_code, fy_start from counted
),

final as (
    select
        k.la_code,
        financial_year_label(k.year) as financial_year,
        coalesce(c.custodial_sentences, 0) as custodial_sentences,
        coalesce(c.remands_youth_detention, 0) as remands_youth_detention,
        p.population as population_10_17,
        rate_per(coalesce(c.custodial_sentences, 0), p.population, 1000, digits := 3) as custody_rate_per_1000,
        case when p.population is null then
            'No ONS mid-year population of 10-17-year-olds is held for ' || k.la_code || ' in ' || k.year
        end as rate_note
    from cells as k
    left join core.population_10_17 as p on p.la_code = k.la_code and p.year = k.year
    left join counted as c on c.la_code = k.la_code and c.fy_start = k.year
)

select * from final
order by la_code, financial_year;

comment on view kpi.custody is 'Use of custody (YJB KPI): custodial sentences to children aged 10-17 at the offence and resident in the LA, once per child and hearing, per 1,000 aged 10-17, by financial year, with remands to youth detention. Method: docs/methods.md#custody.';
comment on column kpi.custody.financial_year is 'Financial year, April to March, e.g. 2024-25.';
comment on column kpi.custody.custodial_sentences is 'Hearings at which a child was sentenced to custody (DTO, s250 detention, extended sentence, detention for life): concurrent sentences at one hearing count once.';
comment on column kpi.custody.remands_youth_detention is 'Hearings at which a child was remanded to youth detention accommodation.';
comment on column kpi.custody.custody_rate_per_1000 is 'custodial_sentences per 1,000 of population_10_17; NULL where the population is not held (rate_note).';
comment on column kpi.custody.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.custody.population_10_17 is 'ONS mid-year estimate of 10-17-year-olds for the year the financial year starts; NULL where not held.';
comment on column kpi.custody.rate_note is 'Why there is no rate (no population held for the LA and year); NULL when there is one.';
