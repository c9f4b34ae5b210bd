"""The YJB's ten KPIs (domain.md 2), the partnership's own measures, the reoffending splits and kpi.measures, each
against hand-built extracts that sit on the edges of its definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import load_rows
from warehouse.db import connect_analyst

POP = [{"year": y, "population": "10000"} for y in ("2023", "2024", "2025")]


def iv(iid: str, kind: str, start: str, end: str = "", **kw: str) -> dict[str, str]:
    """A YOS intervention; every KPI field defaults to the helpers' valid row (all suitable, no needs)."""
    return {"intervention_id": iid, "yos_child_id": "YJ" + iid, "intervention_type": kind, "start_date": start,
            "end_date": end, "end_reason": "completed" if end else "", **kw}  # fmt: skip


def caution(oid: str, pnc: str, offence: str, outcome: str, **kw: str) -> dict[str, str]:
    return {"outcome_id": oid, "pnc_id": pnc, "force_person_id": "DP" + oid, "offence_date": offence,
            "outcome_date": outcome, "outcome_type": "2", **kw}  # fmt: skip


@pytest.fixture
def warehouse(pipeline, tmp_path: Path):  # noqa: ANN201
    """Load the given feeds' rows (plus the population) and return a connection to the published warehouse."""

    def build(**feeds: list[dict]):  # noqa: ANN202
        load_rows(pipeline, tmp_path, "population_10_17", POP)
        for feed, rows in feeds.items():
            load_rows(pipeline, tmp_path, feed, rows)
        return connect_analyst(pipeline.publish())

    return build


def test_kpi1_counts_community_children_at_their_end_and_custody_leavers_at_release(warehouse) -> None:  # noqa: ANN001
    con = warehouse(
        yos_interventions=[
            # ended in 2024-25, unsuitable at the start, suitable at the end
            iv("I1", "youth_caution", "2024-04-10", "2024-06-01", accommodation_suitable_start="false"),
            # prevention counts too (the KPIs cover every child the YOS works with); unsuitable at the end
            iv("I2", "prevention", "2024-05-01", "2024-08-01", accommodation_suitable_end="false"),
            iv("I3", "referral_order", "2023-10-01", "2024-03-31"),  # ended 31 March: 2023-24
            iv("I4", "referral_order", "2024-06-01"),  # still open: not measured
            iv("I5", "detention_training_order", "2023-06-01", "2024-07-01"),  # custody itself: not measured
            # released from custody in 2024-25: measured at release (start), not at the end
            iv("I6", "resettlement", "2024-07-02", "2024-12-01", accommodation_suitable_start="false"),
        ]
    )
    got = con.execute(
        """select financial_year, children, suitable, suitable_pct, in_community, in_community_suitable_at_start,
                  in_community_suitable, released_from_custody, released_from_custody_suitable
           from kpi.accommodation order by financial_year"""
    ).fetchall()
    assert got == [("2023-24", 1, 1, 100.0, 1, 1, 1, 0, 0), ("2024-25", 3, 1, 33.3, 2, 1, 1, 1, 0)]


def test_kpi2_ete_and_kpi3_send_need_suitable_ete_and_a_formal_plan(warehouse) -> None:  # noqa: ANN001
    send = {"send_identified": "true"}
    con = warehouse(
        yos_interventions=[
            iv("E1", "referral_order", "2024-04-01", "2024-09-01", **send, learning_plan="ehcp"),  # counts
            iv("E2", "referral_order", "2024-04-01", "2024-09-01", **send, learning_plan="none"),  # no plan
            iv(
                "E3",
                "referral_order",
                "2024-04-01",
                "2024-09-01",
                **send,
                learning_plan="idp",
                ete_suitable_end="false",
            ),
            iv("E4", "youth_caution", "2024-04-01", "2024-09-01", ete_hours_offered="10", ete_hours_attended="5"),
        ]
    )
    assert con.execute(
        "select children, suitable, suitable_pct, hours_offered, hours_attended, hours_attended_pct from kpi.ete"
    ).fetchall() == [(4, 3, 75.0, 85, 65, 76.5)]
    assert con.execute(
        """select send_identified, with_learning_plan, with_ehcp, in_suitable_ete, with_plan_and_suitable_ete,
                  with_plan_and_suitable_ete_pct from kpi.send_aln"""
    ).fetchall() == [(3, 2, 1, 2, 1, 33.3)]


def test_kpi4_and_kpi5_are_nested_funnels(warehouse) -> None:  # noqa: ANN001
    mh = {"mh_need": "true"}
    con = warehouse(
        yos_interventions=[
            iv("H1", "referral_order", "2024-04-01", "2024-09-01", **mh, mh_offered="true", mh_attending="true"),
            iv("H2", "referral_order", "2024-04-01", "2024-09-01", **mh, mh_offered="true"),
            iv("H3", "referral_order", "2024-04-01", "2024-09-01", **mh, sm_need="true"),
            iv("H4", "referral_order", "2024-04-01", "2024-09-01"),
        ]
    )
    got = con.execute(
        """select need, children, with_need, offered, offered_pct, attending, attending_pct
           from kpi.health_needs order by need"""
    ).fetchall()
    assert got == [("mental_health", 4, 3, 2, 66.7, 1, 50.0), ("substance_misuse", 4, 1, 0, 0.0, 0, None)]


def test_kpi7_board_attendance_by_financial_year_and_agency(warehouse) -> None:  # noqa: ANN001
    con = warehouse(
        board_attendance=[
            {
                "meeting_date": "2024-03-31",
                "partner_agency": "health",
                "attended": "false",
                "senior_representative": "false",
                "data_contributed": "false",
            },
            {"meeting_date": "2024-04-01", "partner_agency": "health"},
            {
                "meeting_date": "2024-07-01",
                "partner_agency": "health",
                "senior_representative": "false",
                "data_contributed": "false",
            },
        ]  # fmt: skip
    )
    got = con.execute(
        """select la_code, financial_year, meetings, attended, attended_pct, senior_representative, data_contributed
           from kpi.board_attendance order by financial_year"""
    ).fetchall()
    assert got == [("E06000015", "2023-24", 1, 0, 0.0, 0, 0), ("E06000015", "2024-25", 2, 2, 100.0, 1, 1)]


def test_kpi8_wider_services_counts_a_child_known_to_any_once(warehouse) -> None:  # noqa: ANN001
    con = warehouse(
        yos_interventions=[
            iv("W1", "referral_order", "2024-04-01", "2024-09-01", early_help="true", child_in_need="true"),
            iv("W2", "referral_order", "2024-04-01", "2024-09-01", care_leaver="true"),
            iv("W3", "referral_order", "2024-04-01", "2024-09-01"),
        ]
    )
    assert con.execute(
        "select children, known_to_wider_services, known_to_wider_services_pct, early_help, care_leaver "
        "from kpi.wider_services"
    ).fetchall() == [(3, 2, 66.7, 1, 1)]


def test_kpi9_serious_violence_is_proven_gravity_5_plus_in_three_categories(warehouse) -> None:  # noqa: ANN001
    vap = {"offence_category": "violence_against_person"}
    con = warehouse(
        police_outcomes=[
            caution("S1", "23/0000001A", "2024-05-01", "2024-05-10", **vap, gravity_score="5"),  # counts
            caution("S2", "23/0000002B", "2024-05-01", "2024-05-10", **vap, gravity_score="4"),  # gravity 4: no
            caution("S3", "23/0000003C", "2024-05-01", "2024-05-10", offence_category="theft", gravity_score="6"),
            # a community resolution is not proven, whatever the gravity
            caution(
                "S4",
                "23/0000004D",
                "2024-05-01",
                "2024-05-10",
                offence_category="robbery",
                gravity_score="6",
                outcome_type="8",
            ),
            caution("S5", "23/0000005E", "2025-03-01", "2025-03-31", offence_category="robbery", gravity_score="5"),
            caution("S6", "23/0000006F", "2025-03-01", "2025-04-01", offence_category="drugs", gravity_score="7"),
        ],  # fmt: skip
        court_disposals=[
            {
                "disposal_id": "C1",
                "pnc_id": "23/0000007G",
                "offence_date": "2024-06-01",
                "hearing_date": "2024-08-01",
                "offence_category": "drugs",
                "gravity_score": "5",
            },
            {
                "disposal_id": "C2",
                "pnc_id": "23/0000008H",
                "offence_date": "2024-06-01",
                "hearing_date": "2024-08-01",
                "offence_category": "drugs",
                "gravity_score": "5",
                "verdict": "acquitted",
                "disposal_type": "",
                "length_months": "",
            },
        ],  # fmt: skip
    )
    got = con.execute(
        """select financial_year, serious_violence_offences, violence_against_person, robbery, drugs, rate_per_10k
           from kpi.serious_violence where serious_violence_offences > 0 order by financial_year"""
    ).fetchall()
    assert got == [("2024-25", 3, 1, 1, 1, 3.0), ("2025-26", 1, 0, 0, 1, 1.0)]


def test_kpi10_victims_engaged_in_rj_out_of_those_who_consented(warehouse) -> None:  # noqa: ANN001
    con = warehouse(
        yos_interventions=[iv("V", "referral_order", "2024-05-01")],
        yos_victims=[
            {"victim_record_id": "V1", "intervention_id": "V", "rj_offered": "true", "rj_engaged": "true"},
            {"victim_record_id": "V2", "intervention_id": "V", "rj_offered": "true"},
            {"victim_record_id": "V3", "intervention_id": "V", "contacted_date": ""},
            # engaged without consenting to contact (through another route): not in the KPI's numerator
            {
                "victim_record_id": "V4",
                "intervention_id": "V",
                "consent_to_contact": "false",
                "contacted_date": "",
                "rj_offered": "true",
                "rj_engaged": "true",
            },
        ],  # fmt: skip
    )
    assert con.execute(
        "select financial_year, victims, consented_to_contact, contacted, rj_offered, rj_engaged, rj_engaged_pct "
        "from kpi.victims"
    ).fetchall() == [("2024-25", 4, 3, 2, 2, 1, 33.3)]


def test_rosh_profile_takes_the_start_assessment_and_checks_plans_from_medium(warehouse) -> None:  # noqa: ANN001
    def a(aid: str, iid: str, stage: str, level: str, plan: str, day: str) -> dict[str, str]:
        return {"assessment_id": aid, "intervention_id": iid, "stage": stage, "rosh_level": level,
                "rosh_plan_in_place": plan, "assessment_date": day}  # fmt: skip

    con = warehouse(
        yos_interventions=[
            iv("R1", "referral_order", "2024-05-01"),
            iv("R2", "youth_caution", "2024-05-01"),
            iv("R3", "youth_caution", "2024-05-01"),
        ],  # fmt: skip
        yos_assessments=[
            a("A1", "R1", "start", "Medium", "false", "2024-05-02"),  # counted: Medium, no plan
            a("A2", "R1", "review", "High", "true", "2024-08-01"),  # a later review does not replace it
            a("A3", "R2", "start", "Very High", "true", "2024-05-02"),
            a("A4", "R3", "start", "Low", "false", "2024-05-02"),
        ],
    )
    got = con.execute(
        """select disposal, assessed, rosh_low, rosh_medium, rosh_high, rosh_very_high, medium_or_above,
                  medium_or_above_with_plan, with_plan_pct from kpi.rosh_profile order by disposal"""
    ).fetchall()
    assert got == [("court", 1, 0, 1, 0, 0, 1, 0, 0.0), ("out_of_court", 2, 1, 0, 0, 1, 1, 1, 100.0)]


def test_offence_profile_violence_child_on_parent_and_weapons(warehouse) -> None:  # noqa: ANN001
    vap = {"offence_category": "violence_against_person"}
    con = warehouse(
        police_outcomes=[
            caution("P1", "23/0000001A", "2024-05-01", "2024-05-10", **vap, victim_relationship="parent_carer"),
            caution("P2", "23/0000002B", "2024-05-01", "2024-05-10", **vap, weapon="knife"),
            caution("P3", "23/0000003C", "2024-05-01", "2024-05-10", offence_category="possession_of_weapons"),
            caution("P4", "23/0000004D", "2024-05-01", "2024-05-10", victim_relationship="parent_carer"),  # theft
        ]
    )
    assert con.execute(
        """select offences, violent_offences, violent_pct, child_on_parent_violence, knife_or_weapon_offences,
                  knife_offences from kpi.offence_profile"""
    ).fetchall() == [(4, 2, 50.0, 1, 2, 1)]


def test_children_in_care_beside_others_and_placement_call_outs(warehouse) -> None:  # noqa: ANN001
    con = warehouse(
        yos_interventions=[iv("C1", "referral_order", "2024-05-01", pnc_id="23/0000001A", looked_after="true")],
        police_outcomes=[
            caution("O1", "23/0000001A", "2024-05-01", "2024-05-10"),  # the looked-after child: caution
            caution("O2", "23/0000001A", "2024-06-01", "2024-06-10", outcome_type="1"),  # and a charge
            caution("O3", "23/0000002B", "2024-05-01", "2024-05-10", outcome_type="8"),
        ],
        cic_police_incidents=[
            {"incident_id": "N1"},
            {"incident_id": "N2", "police_outcome": "arrest_no_further_action"},
            {"incident_id": "N3", "police_outcome": "community_resolution", "restorative_approach_used": "false"},
            {"incident_id": "N4", "police_outcome": "charge", "reported_by": "police_patrol"},
        ],
    )
    assert con.execute(
        """select care_status, children, offences, out_of_court, charged, out_of_court_pct
           from kpi.children_in_care order by care_status"""
    ).fetchall() == [("looked_after", 1, 2, 1, 1, 50.0), ("not_looked_after", 1, 1, 1, 0, 100.0)]
    assert con.execute(
        """select la_code, incidents, reported_by_placement_staff, restorative_approach_used,
                  resolved_without_criminalisation, resolved_without_criminalisation_pct, out_of_court, charged
           from kpi.care_police_incidents"""
    ).fetchall() == [("E06000015", 4, 3, 3, 2, 50.0, 1, 1)]


def test_custody_transfers_requested_achieved_and_why_not(warehouse) -> None:  # noqa: ANN001
    con = warehouse(
        custody_transfers=[
            {"detention_id": "T1"},
            {
                "detention_id": "T2",
                "accommodation_requested": "secure",
                "transfer_achieved": "false",
                "reason_not_transferred": "no_la_bed",
            },
            {"detention_id": "T3", "accommodation_requested": "none", "transfer_achieved": "false"},
        ]  # fmt: skip
    )
    assert con.execute(
        """select held_overnight, transfers_requested, transfers_achieved, transfers_achieved_pct, secure_requested,
                  not_transferred, not_transferred_no_la_bed from kpi.custody_transfers"""
    ).fetchall() == [(3, 2, 1, 50.0, 1, 1, 1)]


def test_resettlement_and_sibling_prevention(warehouse) -> None:  # noqa: ANN001
    con = warehouse(
        yos_interventions=[
            iv("L1", "resettlement", "2024-05-01"),
            iv("L2", "resettlement", "2024-06-01", ete_suitable_start="false"),
            iv("B1", "sibling_prevention", "2024-05-01", "2024-09-01", pnc_id="23/0000009J"),
            iv("B2", "sibling_prevention", "2024-05-01", "2024-09-01", end_reason="breached"),
        ],
        police_outcomes=[caution("Q1", "23/0000009J", "2024-10-01", "2024-10-10")],  # B1's child, after the work
    )
    assert con.execute(
        "select custody_leavers, suitable_accommodation, suitable_ete, both_in_place, both_in_place_pct "
        "from kpi.resettlement"
    ).fetchall() == [(2, 2, 1, 1, 50.0)]
    assert con.execute(
        "select children_reached, interventions_ended, interventions_completed, completed_pct, later_proven_outcome "
        "from kpi.sibling_prevention"
    ).fetchall() == [(2, 2, 1, 50.0, 1)]


def test_disproportionality_relative_rate_against_white_children(warehouse) -> None:  # noqa: ANN001
    white = [caution(f"W{i}", "", "2024-05-01", "2024-05-10", outcome_type="1" if i < 1 else "8") for i in range(4)]
    black = [
        caution(f"B{i}", "", "2024-05-01", "2024-05-10", ethnicity="BAFR", outcome_type="1" if i < 1 else "8")
        for i in range(2)
    ]
    con = warehouse(police_outcomes=white + black)
    got = con.execute(
        """select ethnic_group, children, charged, out_of_court, charged_pct, charged_relative_rate
           from kpi.disproportionality order by ethnic_group"""
    ).fetchall()
    assert got == [("Black", 2, 1, 1, 50.0, 2.0), ("White", 4, 1, 3, 25.0, 1.0)]


def test_reoffending_splits_add_up_to_the_cohort(warehouse) -> None:  # noqa: ANN001
    con = warehouse(
        police_outcomes=[
            caution("A1", "23/0000001A", "2023-01-01", "2023-01-10", dob="2010-06-01", sex="F"),  # 12 at offence
            caution("A2", "23/0000001A", "2023-06-01", "2023-06-10", dob="2010-06-01", sex="F"),  # her reoffence
            caution("B1", "23/0000002B", "2023-01-05", "2023-02-10", dob="2007-01-01"),  # 16
        ],
        court_disposals=[
            {"disposal_id": "D1", "pnc_id": "23/0000003C", "offence_date": "2022-12-01", "hearing_date": "2023-03-01"}
        ],
    )
    got = con.execute(
        """select split, group_value, offenders, reoffenders from kpi.reoffending_by_group
           where cohort_type = 'quarter' and cohort_start = date '2023-01-01' order by split, group_value"""
    ).fetchall()
    assert got == [
        ("age_band", "10-14", 2, 1),  # A1 at 12; D1 at 14
        ("age_band", "15-17", 1, 0),
        ("care_status", "not_looked_after", 3, 1),
        ("ethnic_group", "Not known", 1, 0),  # courts do not send ethnicity, and no other agency knows D1
        ("ethnic_group", "White", 2, 1),
        ("index_disposal", "caution", 2, 1),
        ("index_disposal", "court_non_custodial", 1, 0),
        ("sex", "F", 1, 1),
        ("sex", "M", 2, 0),
    ]
    assert con.execute(
        """select offenders, reoffenders from kpi.reoffending
           where cohort_type = 'quarter' and cohort_start = date '2023-01-01'"""
    ).fetchall() == [(3, 1)]


def test_measures_put_england_and_the_comparator_beside_each_figure(warehouse) -> None:  # noqa: ANN001
    con = warehouse(
        police_outcomes=[caution(f"F{i}", f"23/000000{i}A", "2024-02-01", "2024-02-10") for i in range(2)]
        + [caution("G1", "23/0000009Z", "2025-02-01", "2025-02-10")],
        published_comparators=[
            {"measure": "FirstYJS", "area_code": "E92000001", "period": "2024", "value": "150"},
            {
                "measure": "FirstYJS",
                "area_code": "E12000004",
                "area_name": "East Midlands",
                "period": "2024",
                "value": "160.5",
            },
            {
                "measure": "FirstYJS",
                "area_code": "E12000009",
                "area_name": "South West",
                "period": "2024",
                "value": "99",
            },  # not the configured comparator
        ],  # fmt: skip
    )
    got = con.execute(
        """select period, numerator, denominator, value, england_value, gap_to_england, comparator_name,
                  comparator_value, gap_to_comparator, provisional
           from kpi.measures where measure = 'first_time_entrants' order by period"""
    ).fetchall()
    assert got == [
        ("2024", 2, 10000, 20.0, 150.0, -130.0, "East Midlands", 160.5, -140.5, False),
        # the latest outcome held is in February 2025: 2025 is a year to date
        ("2025", 1, 10000, 10.0, None, None, "East Midlands", None, None, True),
    ]
    # leaving the team, both counts are under 5: no figure, and it says so
    assert con.execute(
        "select period, value, suppressed from published.measures where measure = 'first_time_entrants' order by 1"
    ).fetchall() == [("2024", None, True), ("2025", None, True)]
