-- Rates, computed one way everywhere: a share in per cent to one decimal place, NULL when there is no
-- denominator (a rate of nothing is not 0%).
-- percent(n, d): 100 * n / d, rounded to 0.1.
-- rate_per(n, d, base): n per `base` of d (e.g. per 100,000 children aged 10-17), rounded to 0.01.
create or replace macro percent(n, d) as round(100.0 * n / nullif(d, 0), 1);
create or replace macro rate_per(n, d, base) as round(base * n / nullif(d, 0), 2);
