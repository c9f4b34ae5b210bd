"""The headline measures computed the way the MoJ and the YJB compute them (issue 25, items 1-10; docs/methods.md).

Each test loads a small hand-written extract through the real path (land, validate, load, publish) and compares the
view with figures worked out by hand in the comments beside them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import load_rows
from warehouse.db import connect_analyst

POP = [{"year": y, "population": "10000"} for y in ("2019", "2020", "2021", "2022", "2023", "2024", "2025", "2026")]


def caution(oid: str, pnc: str, offence: str, outcome: str, **kw: str) -> dict[str, str]:
    return {"outcome_id": oid, "pnc_id": pnc, "force_person_id": "DP" + oid, "offence_date": offence,
            "outcome_date": outcome, "outcome_type": "2", "dob": "2010-01-01", **kw}  # fmt: skip


def conviction(did: str, pnc: str, offence: str, hearing: str, **kw: str) -> dict[str, str]:
    return {"disposal_id": did, "pnc_id": pnc, "offence_date": offence, "hearing_date": hearing, "dob": "2010-01-01",
            **kw}  # fmt: skip


@pytest.fixture
def kpis(pipeline, tmp_path: Path):  # noqa: ANN201
    def build(police: list[dict], court: list[dict], pop: list[dict] | None = None):  # noqa: ANN202
        load_rows(pipeline, tmp_path, "population_10_17", POP if pop is None else pop)
        load_rows(pipeline, tmp_path, "police_outcomes", police)
        if court:
            load_rows(pipeline, tmp_path, "court_disposals", court)
        return connect_analyst(pipeline.publish())

    return build


def cohorts(con, cohort_type: str) -> list[tuple]:  # noqa: ANN001
    rows = con.execute(
        "select cohort_start, cohort_end, offenders, reoffenders, reoffences from kpi.reoffending "
        "where cohort_type = ? order by cohort_end",
        [cohort_type],
    ).fetchall()
    return [(str(s), str(e), o, r, n) for s, e, o, r, n in rows]


# --- 1. a release projected past the latest data held makes no cohort -------------------------------------------


def test_a_release_after_the_latest_data_held_makes_no_cohort(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[caution("A1", "23/0000001A", "2025-10-01", "2025-10-06")],
        # a 4-month DTO passed on 2025-12-22 (the latest date held): release on 2026-02-22, which has not happened
        court=[
            conviction(
                "D1",
                "23/0000002B",
                "2025-11-01",
                "2025-12-22",
                disposal_type="detention_training_order",
                length_months="4",
            )
        ],  # fmt: skip
    )
    # the only cohort is 2025 Q4 with the caution (the DTO itself is custodial: not an index event)
    assert cohorts(con, "quarter") == [("2025-10-01", "2025-12-31", 1, 0, 0)]
    # and no rolling window runs past the quarter of the latest data (nor starts before the first: none at all)
    assert cohorts(con, "rolling_12_months") == []


# --- 2. rolling windows that start before the data begins are not whole cohorts -----------------------------------


def test_rolling_windows_start_no_earlier_than_the_data(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[
            caution("A1", "23/0000001A", "2023-01-05", "2023-01-10"),  # the first data held: 2023 Q1
            caution("C1", "23/0000003C", "2023-08-01", "2023-08-10"),  # 2023 Q3, in all three windows
            caution("B1", "23/0000002B", "2024-05-01", "2024-05-10"),  # the last: 2024 Q2
        ],
        court=[],
    )
    # windows of four whole quarters inside 2023 Q1 .. 2024 Q2: ending 2023-12, 2024-03, 2024-06
    assert [(s, e) for s, e, *_ in cohorts(con, "rolling_12_months")] == [
        ("2023-01-01", "2023-12-31"),
        ("2023-04-01", "2024-03-31"),
        ("2023-07-01", "2024-06-30"),
    ]


# --- 3. reoffences count at any age ----------------------------------------------------------------------------


def test_a_reoffence_committed_at_18_counts(kpis) -> None:  # noqa: ANN001
    con = kpis(
        # cautioned at 17 (born 2007-06-15) in January 2025
        police=[caution("A1", "23/0000001A", "2025-01-05", "2025-01-20", dob="2007-06-15")],
        # reoffends at 18 on 2025-07-01 (within 12 months), convicted 2025-09-01 (within 18): a proven reoffence
        court=[conviction("C1", "23/0000001A", "2025-07-01", "2025-09-01", dob="2007-06-15")],
    )
    # 2025 Q1: 1 child, who reoffended once. The adult conviction is no index event (18 at the hearing): no Q3 row
    assert cohorts(con, "quarter") == [("2025-01-01", "2025-03-31", 1, 1, 1)]


# --- 4. the cohort takes the age at the index event, not at the offence ------------------------------------------


def test_cohort_membership_and_age_band_use_the_age_at_the_index_event(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[
            # 14 at the offence, 15 at the caution: in the cohort, age band 15-17
            caution("A1", "23/0000001A", "2025-02-20", "2025-03-05", dob="2010-03-01"),
        ],
        court=[
            # 17 at the offence, 18 at the (non-custodial) conviction: an adult at the index event, not in it
            conviction("C1", "23/0000002B", "2025-01-10", "2025-03-10", dob="2007-03-01"),
            # sentenced at 17 to a 4-month DTO on 2025-01-15, released 2025-03-15 at 18: not in it either
            conviction(
                "C2",
                "23/0000003C",
                "2024-12-01",
                "2025-01-15",
                dob="2007-03-01",
                disposal_type="detention_training_order",
                length_months="4",
            ),  # fmt: skip
        ],
    )
    assert cohorts(con, "quarter") == [("2025-01-01", "2025-03-31", 1, 0, 0)]
    assert con.execute(
        "select group_value, offenders from kpi.reoffending_by_group where cohort_type = 'quarter' "
        "and split = 'age_band'"
    ).fetchall() == [("15-17", 1)]


# --- 5. one child across a caution without a PNC ID and a conviction with one ------------------------------------


def test_a_child_cautioned_without_a_pnc_id_and_later_convicted_is_one_child(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[
            # cautioned in March 2023 without a PNC ID (force person DPX1)
            caution("X1", "", "2023-03-01", "2023-03-10", force_person_id="DPX1"),
            # charged in May 2023: the force now records the PNC ID beside the same person
            caution("X2", "23/0000050X", "2023-05-01", "2023-05-05", force_person_id="DPX1", outcome_type="1"),
        ],
        court=[conviction("X3", "23/0000050X", "2023-05-01", "2023-07-01")],  # convicted (referral order)
    )
    # one first time entrant in 2023 (the caution), not two
    assert con.execute("select year, fte_count from kpi.first_time_entrants").fetchall() == [(2023, 1)]
    # 2023 Q1: the child, whose May offence (convicted in July) is a proven reoffence; Q3: the conviction's cohort
    assert cohorts(con, "quarter") == [
        ("2023-01-01", "2023-03-31", 1, 1, 1),
        ("2023-07-01", "2023-09-30", 1, 0, 0),
    ]


# --- 6. a year's figures are the four quarterly cohorts', a child counted in each --------------------------------


def test_a_rolling_year_adds_up_its_four_quarterly_cohorts(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[
            caution("A1", "23/0000001A", "2023-01-05", "2023-01-10"),  # A in Q1
            caution("A2", "23/0000001A", "2023-05-01", "2023-05-10"),  # A in Q2: A's Q1 reoffence
            caution("B1", "23/0000002B", "2023-08-01", "2023-08-10"),  # B in Q3
            caution("C1", "23/0000003C", "2023-11-01", "2023-11-10"),  # C in Q4
        ],
        court=[],
    )
    quarters = cohorts(con, "quarter")
    assert quarters == [
        ("2023-01-01", "2023-03-31", 1, 1, 1),
        ("2023-04-01", "2023-06-30", 1, 0, 0),
        ("2023-07-01", "2023-09-30", 1, 0, 0),
        ("2023-10-01", "2023-12-31", 1, 0, 0),
    ]
    # 2023: 1 + 1 + 1 + 1 = 4 offenders (A twice), 1 reoffender, 1 reoffence; distinct children would give 3
    assert cohorts(con, "rolling_12_months") == [("2023-01-01", "2023-12-31", 4, 1, 1)]


# --- 7. release points by sentence type ---------------------------------------------------------------------------


def test_release_from_custody_by_sentence_type(kpis) -> None:  # noqa: ANN001
    court = [
        # extended sentence, custodial term 48 months, from 2020-01-15: two thirds = 32 months -> 2022-09-15 (Q3)
        conviction("E1", "23/0000001A", "2019-10-01", "2020-01-15", dob="2008-01-01",
                   disposal_type="extended_sentence", length_months="48"),
        # s250, 24 months from 2021-03-10: half = 12 months -> 2022-03-10 (Q1)
        conviction("S1", "23/0000002B", "2021-01-01", "2021-03-10", dob="2007-01-01",
                   disposal_type="s250_detention", length_months="24"),
        # s250, 84 months (7 years) for violence with gravity 8, passed after 28 June 2022: two thirds = 56 months
        # -> 2027-03-01, after the latest data held: not released yet (half would have been 2026-01-01)
        conviction("S2", "23/0000003C", "2022-03-01", "2022-07-01", dob="2011-06-01", offence_category=
                   "violence_against_person", gravity_score="8", disposal_type="s250_detention", length_months="84"),
        # a DTO of 6 months from 2022-01-20: half = 3 months -> 2022-04-20 (Q2)
        conviction("T1", "23/0000004D", "2021-12-01", "2022-01-20", dob="2008-01-01",
                   disposal_type="detention_training_order", length_months="6"),
    ]  # fmt: skip
    con = kpis(police=[caution("Z1", "23/0000009Z", "2026-03-01", "2026-03-10")], court=court)
    got = con.execute(
        "select cohort_start, count(*) from conformed.reoffending_cohorts where cohort_type = 'quarter' "
        "and index_disposal = 'custody_release' group by all order by 1"
    ).fetchall()
    assert [(str(s), n) for s, n in got] == [("2022-01-01", 1), ("2022-04-01", 1), ("2022-07-01", 1)]


# --- 8-10. custody -----------------------------------------------------------------------------------------------

DTO = {"disposal_type": "detention_training_order", "length_months": "4"}


def test_custody_counts_children_aged_10_to_17_at_the_offence(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[],
        court=[
            conviction("K1", "23/0000021K", "2024-05-01", "2024-06-01", dob="2007-01-01", **DTO),  # 17: counts
            conviction("K2", "23/0000022K", "2024-05-01", "2024-06-01", dob="2006-01-01", **DTO),  # 18: not a child
            conviction("K3", "23/0000023K", "2024-05-01", "2024-06-01", dob="2008-01-01", **DTO),  # 16: counts
            conviction("K4", "23/0000024K", "2024-05-01", "2024-06-01", dob="2009-01-01", **DTO),
            conviction("K5", "23/0000025K", "2024-05-01", "2024-06-01", dob="2009-01-01", **DTO),
            conviction("K6", "23/0000026K", "2024-05-01", "2024-06-01", dob="2009-01-01", **DTO),
        ],
    )
    # 5 sentences to children in 2024-25 out of 10,000: 0.5 per 1,000
    assert con.execute(
        "select financial_year, custodial_sentences, custody_rate_per_1000 from kpi.custody"
    ).fetchall() == [("2024-25", 5, 0.5)]


def test_concurrent_custodial_sentences_at_one_hearing_count_once(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[],
        court=[
            # two concurrent DTOs for two offences at one hearing: one custodial sentence
            conviction("K1", "23/0000021K", "2024-05-01", "2024-06-01", **DTO),
            conviction("K2", "23/0000021K", "2024-05-02", "2024-06-01", **DTO),
            # the same child sentenced again at a later hearing: a second one
            conviction("K3", "23/0000021K", "2024-07-01", "2024-09-01", **DTO),
            # another child
            conviction("K4", "23/0000022K", "2024-05-01", "2024-06-01", **DTO),
        ],
    )
    assert con.execute("select financial_year, custodial_sentences from kpi.custody").fetchall() == [("2024-25", 3)]


def test_custody_without_a_population_still_shows_its_counts(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[],
        court=[
            conviction("K1", "23/0000021K", "2024-05-01", "2024-06-01", **DTO),  # 2024-25: population held
            conviction("K2", "23/0000022K", "2025-05-01", "2025-06-01", **DTO),  # 2025-26: no population for 2025
            conviction(
                "K3",
                "23/0000023K",
                "2025-05-01",
                "2025-06-01",
                remand_status="remand_youth_detention",
                verdict="acquitted",
                disposal_type="",
                length_months="",
            ),  # fmt: skip
        ],
        pop=[{"year": "2024", "population": "10000"}],
    )
    got = con.execute(
        "select financial_year, custodial_sentences, remands_youth_detention, population_10_17, "
        "custody_rate_per_1000, rate_note from kpi.custody order by financial_year"
    ).fetchall()
    assert got == [
        ("2024-25", 1, 0, 10000, 0.1, None),
        ("2025-26", 1, 1, None, None, "No ONS mid-year population of 10-17-year-olds is held for E06000015 in 2025"),
    ]


# --- 11 and 13. disclosure control across overlapping periods and views; suppression visible in the row -----------


def test_no_suppressed_quarter_is_recoverable_from_the_rolling_years(kpis) -> None:  # noqa: ANN001
    # 6 children cautioned in each quarter of 2023, 2 in 2024 Q1; all boys of 15-16, White, cautioned, not in care,
    # so every split has one group and its rows equal the cohort's
    quarters = {"2023-02": 6, "2023-05": 6, "2023-08": 6, "2023-11": 6, "2024-02": 2}
    police = [
        caution(f"Q{m[:4]}{m[5:]}{i}", f"23/{m[2:4]}{m[5:]}0{i}{i}A", f"{m}-01", f"{m}-10", dob="2008-01-01")
        for m, n in quarters.items()
        for i in range(n)
    ]
    con = kpis(police=police, court=[])
    # by hand: quarters 6, 6, 6, 6, 2; rolling years ending 2023-12 = 24, ending 2024-03 = 6 + 6 + 6 + 2 = 20
    assert [r[2] for r in cohorts(con, "quarter")] == [6, 6, 6, 6, 2]
    assert [r[2] for r in cohorts(con, "rolling_12_months")] == [24, 20]
    # 2 is suppressed; then 20 - 24 + 6 (2023 Q1) would give it back, so the rolling year ending 2024-03 goes too
    # (one cell breaks both equations; hiding a shown quarter instead would leave the 2 recoverable from the year
    # ending 2023-12)
    got = con.execute(
        "select cohort_type, cohort_end, offenders, offenders_status from published.reoffending order by 1, 2"
    ).fetchall()
    assert [(t, str(e), o, s) for t, e, o, s in got] == [
        ("quarter", "2023-03-31", 6, "shown"),
        ("quarter", "2023-06-30", 6, "shown"),
        ("quarter", "2023-09-30", 6, "shown"),
        ("quarter", "2023-12-31", 6, "shown"),
        ("quarter", "2024-03-31", None, "suppressed"),
        ("rolling_12_months", "2023-12-31", 24, "shown"),
        ("rolling_12_months", "2024-03-31", None, "suppressed"),
    ]
    # across views: each split's one group equals the cohort, so the same cells go in reoffending_by_group
    by_group = con.execute(
        "select cohort_type, cohort_end, count(*) filter (where offenders is null), count(*) "
        "from published.reoffending_by_group group by all order by 1, 2"
    ).fetchall()
    assert [(t, str(e), h, n) for t, e, h, n in by_group] == [
        ("quarter", "2023-03-31", 0, 5),
        ("quarter", "2023-06-30", 0, 5),
        ("quarter", "2023-09-30", 0, 5),
        ("quarter", "2023-12-31", 0, 5),
        ("quarter", "2024-03-31", 5, 5),
        ("rolling_12_months", "2023-12-31", 0, 5),
        ("rolling_12_months", "2024-03-31", 5, 5),
    ]
    # 13: a rate with no numerator to speak of is not available, not suppressed... unless disclosure removed it
    assert con.execute(
        "select distinct binary_rate_pct_status from published.reoffending where cohort_type = 'quarter' "
        "and offenders is not null"
    ).fetchall() == [("suppressed",)]  # 0 reoffenders: no rate on a numerator under 5


def test_a_missing_population_shows_as_not_available_not_suppressed(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[],
        court=[conviction(f"K{i}", f"23/000002{i}K", "2025-05-01", "2025-06-01", **DTO) for i in range(6)],
        pop=[{"year": "2024", "population": "10000"}],
    )
    assert con.execute(
        "select custodial_sentences, custodial_sentences_status, custody_rate_per_1000, custody_rate_per_1000_status "
        "from published.custody"
    ).fetchall() == [(6, "shown", None, "not available")]
