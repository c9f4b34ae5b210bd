-- kpi.board_attendance (grain, inputs and unique key: board_attendance.yml)
-- YJB KPI 7, management board attendance (domain.md 2): how many of the board's meetings each statutory partner
-- attended, with a senior representative, and contributing its agency's data. These are counts of meetings, not of
-- children, so the published view suppresses nothing.
create or replace view kpi.board_attendance as
with

final as (
    select
        (select la_code from core.partnership) as la_code,
        financial_year_label(financial_year_start(meeting_date)) as financial_year,
        partner_agency,
        count(*) as meetings,
        count(*) filter (where attended) as attended,
        percent(count(*) filter (where attended), count(*)) as attended_pct,
        count(*) filter (where attended and senior_representative) as senior_representative,
        percent(count(*) filter (where attended and senior_representative), count(*)) as senior_representative_pct,
        count(*) filter (where data_contributed) as data_contributed,
        percent(count(*) filter (where data_contributed), count(*)) as data_contributed_pct
    from core.board_attendance
    group by all
)

select * from final
order by la_code, financial_year, partner_agency;

comment on view kpi.board_attendance is 'YJB KPI 7: attendance of each statutory partner at the YOS management board, with a senior representative and contributing data, by financial year. Method: docs/methods.md#yjb-kpis-1-10.';
comment on column kpi.board_attendance.la_code is 'ONS code of the partnership''s local authority.';
comment on column kpi.board_attendance.financial_year is 'Financial year of the meetings, e.g. 2024-25.';
comment on column kpi.board_attendance.partner_agency is 'police, probation, health, education, childrens_social_care, courts or other.';
comment on column kpi.board_attendance.meetings is 'Board meetings recorded for the agency in the year.';
comment on column kpi.board_attendance.attended is 'Meetings the agency attended.';
comment on column kpi.board_attendance.attended_pct is 'attended / meetings, per cent.';
comment on column kpi.board_attendance.senior_representative is 'Meetings attended by a senior representative.';
comment on column kpi.board_attendance.senior_representative_pct is 'senior_representative / meetings, per cent.';
comment on column kpi.board_attendance.data_contributed is 'Meetings to which the agency contributed its data (disproportionality included).';
comment on column kpi.board_attendance.data_contributed_pct is 'data_contributed / meetings, per cent.';
