-- Reporting periods, defined once (domain.md 9.1): youth justice figures mostly use FINANCIAL years (April to
-- March), FTEs use calendar years, SSDA903 years end on 31 March, the new KPIs use quarters.
-- financial_year_start(d): the calendar year in which d's financial year starts (2025-03-31 -> 2024).
-- financial_year_label(y): 2024 -> '2024-25'.
create or replace macro financial_year_start(d) as year(d) - (month(d) < 4)::integer;
create or replace macro financial_year_label(y) as y || '-' || lpad(((y + 1) % 100)::varchar, 2, '0');
-- fy_date(label): '2024-25' -> 2024-04-01, the first day of a financial year given by its label.
create or replace macro fy_date(label) as make_date(left(label, 4)::integer, 4, 1);
