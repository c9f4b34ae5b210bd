-- Groupings used to split figures, defined once.
-- ethnic_group(code): the five ONS 2021 high-level ethnic groups from the 19 detailed codes (domain.md 5.2), with
--   NOBT (not obtained) and REFU (refused) and missing codes as 'Not known'. The MoJ's disproportionality
--   figures use these groups.
-- age_band(age): the MoJ proven reoffending age bands for children, 10-14 and 15-17.
create or replace macro ethnic_group(code) as case
    when code in ('WBRI', 'WIRI', 'WOTH', 'WIRT', 'WROM') then 'White'
    when code in ('MWBC', 'MWBA', 'MWAS', 'MOTH') then 'Mixed'
    when code in ('AIND', 'APKN', 'ABAN', 'AOTH', 'CHNE') then 'Asian'
    when code in ('BCRB', 'BAFR', 'BOTH') then 'Black'
    when code in ('OARB', 'OOTH') then 'Other'
    else 'Not known'
end;
create or replace macro age_band(age) as case
    when age between 10 and 14 then '10-14'
    when age between 15 and 17 then '15-17'
    else 'Not known'
end;
