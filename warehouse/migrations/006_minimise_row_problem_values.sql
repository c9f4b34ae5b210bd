-- 006: quarantine.row_problems keeps no date of birth or full postcode (issue 29, item 4). Loads from now on store
-- such a value as (withheld) (warehouse/problems.py: quarantine); this minimises what earlier loads stored, for the
-- columns the contracts minimise on load (dob, DOB, MC_DOB: month of birth; HOME_POST, PL_POST: outward code).
-- The partner's alert re-reads its own rows from the landed file, so nothing it needs is lost.
update quarantine.row_problems set value = case when column_name in ('dob', 'DOB', 'MC_DOB', 'HOME_POST', 'PL_POST') then if(value = '(blank)', value, '(withheld)') else regexp_replace(value, '(^|; )(dob|DOB|MC_DOB|HOME_POST|PL_POST)=[^(;][^;]*', '\1\2=(withheld)', 'g') end;
