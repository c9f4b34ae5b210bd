-- Custodial sentences, defined once (docs/methods.md#release-from-custody).
-- is_custodial_disposal(t): the YJB "Custody" tier: Detention and Training Order, detention under section 250 of the
--   Sentencing Code (was s91), the extended sentence of detention (s254, was s226B) and detention for life (s250/s259;
--   no such code in contract v1 yet, so it is ready for when courts can send it).
-- release_date(...): the day a child is released from a custodial sentence passed on `hearing`, worked out from the
--   sentence's length (the warehouse holds no actual release dates):
--   - DTO: half the term (Sentencing Act 2020 s241(2)); early or late release by 1-2 months is not known to us;
--   - s250: half, except two thirds for a term of 7 years (84 months) or more passed from 28 June 2022 for a serious
--     violent or sexual offence (Police, Crime, Sentencing and Courts Act 2022). Proxy for the offence list: violence
--     against the person or a sexual offence with a YJB gravity score of 7 or 8;
--   - extended sentence: two thirds of the custodial term (length_months is taken to be that term), the earliest day
--     the Parole Board can direct release;
--   - detention for life: the minimum term (tariff; length_months is taken to be it), the earliest day of release.
--   A fraction of a month is whole months plus 30 days per month of the remainder, rounded.
create or replace macro is_custodial_disposal(t) as
    t in ('detention_training_order', 's250_detention', 'extended_sentence', 'detention_for_life');
create or replace macro release_fraction(t, hearing, len, category, gravity) as case
    when t = 'detention_training_order' then 1 / 2
    when t = 's250_detention' and len >= 84 and hearing >= date '2022-06-28'
         and category in ('violence_against_person', 'sexual') and gravity >= 7 then 2 / 3
    when t = 's250_detention' then 1 / 2
    when t = 'extended_sentence' then 2 / 3
    when t = 'detention_for_life' then 1
end;
create or replace macro release_date(t, hearing, len, category, gravity) as (
    hearing
    + to_months(floor(len * release_fraction(t, hearing, len, category, gravity))::integer)
    + to_days(round((len * release_fraction(t, hearing, len, category, gravity)
                     - floor(len * release_fraction(t, hearing, len, category, gravity))) * 30)::integer)
)::date;
