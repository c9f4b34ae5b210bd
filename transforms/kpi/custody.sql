-- kpi.custody (grain, inputs and unique key: custody.yml)
-- Use of custody (domain.md 1.3): custodial sentences (Detention and Training Order, s250 detention, extended
-- sentence) given to children resident in the LA, counted once per sentence, per 1,000 of the LA's 10-17
-- population (mid-year estimate of the year the financial year starts). Remands to youth detention accommodation are
-- counted beside them.
create or replace view kpi.custody as
with

sentences as (
    select
        home_la_code as la_code,
        financial_year_start(hearing_date) as fy_start,
        disposal_type in ('detention_training_order', 's250_detention', 'extended_sentence')
            and verdict = 'convicted' as is_custodial,
        remand_status = 'remand_youth_detention' as is_remand
    from core.court_disposals
),

counted as (
    select la_code, fy_start,
           count(*) filter (where is_custodial) as custodial_sentences,
           count(*) filter (where is_remand) as remands_youth_detention
    from sentences
    group by all
),

final as (
    select
        p.la_code,
        financial_year_label(p.year) as financial_year,
        coalesce(c.custodial_sentences, 0) as custodial_sentences,
        coalesce(c.remands_youth_detention, 0) as remands_youth_detention,
        p.population as population_10_17,
        rate_per(coalesce(c.custodial_sentences, 0), p.population, 1000, digits := 3) as custody_rate_per_1000
    from core.population_10_17 as p
    inner join (select distinct fy_start as year from sentences) using (year)
    left join counted as c on c.la_code = p.la_code and c.fy_start = p.year
)

select * from final
order by la_code, financial_year;

comment on view kpi.custody is 'Use of custody (YJB KPI): custodial sentences to children resident in the LA per 1,000 aged 10-17, by financial year, with remands to youth detention.';
comment on column kpi.custody.financial_year is 'Financial year, April to March, e.g. 2024-25.';
comment on column kpi.custody.custodial_sentences is 'DTO, s250 detention and extended sentences, once per sentence.';
comment on column kpi.custody.remands_youth_detention is 'Court cases with the child remanded to youth detention accommodation.';
comment on column kpi.custody.custody_rate_per_1000 is 'custodial_sentences per 1,000 of population_10_17.';
comment on column kpi.custody.la_code is 'ONS code of the local authority of residence.';
comment on column kpi.custody.population_10_17 is 'ONS mid-year estimate of 10-17-year-olds for the year the financial year starts.';
