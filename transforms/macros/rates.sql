-- Rates, computed one way everywhere: every rate in every model goes through one of these two macros, NULL when
-- there is no denominator (a rate of nothing is not 0%).
-- percent(n, d): 100 * n / d, rounded to 0.1 (digits := 2 for finer shares, such as rows quarantined of rows
--   received).
-- rate_per(n, d, base): n per `base` of d (e.g. per 100,000 children aged 10-17), rounded to 0.01; base 1 gives a
--   plain ratio (reoffences per reoffender, a relative rate). A published definition rounds its own way: first time
--   entrants per 100,000 to 0.1 (digits := 1), custody per 1,000 to 0.001 (digits := 3).
create or replace macro percent(n, d, digits := 1) as round(100.0 * n / nullif(d, 0), digits);
create or replace macro rate_per(n, d, base, digits := 2) as round(base * n / nullif(d, 0), digits);
