"""The headline KPI views against hand-built extracts that sit on the edges of their definitions (domain.md 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import load_rows
from warehouse.db import connect_analyst

POP = [{"year": y, "population": "10000"} for y in ("2023", "2024", "2025")]


def caution(oid: str, pnc: str, offence: str, outcome: str, **kw: str) -> dict[str, str]:
    return {
        "outcome_id": oid,
        "pnc_id": pnc,
        "force_person_id": "DP" + oid,
        "offence_date": offence,
        "outcome_date": outcome,
        "outcome_type": "2",
        **kw,
    }


def conviction(did: str, pnc: str, offence: str, hearing: str, **kw: str) -> dict[str, str]:
    return {"disposal_id": did, "pnc_id": pnc, "offence_date": offence, "hearing_date": hearing, **kw}


@pytest.fixture
def kpis(pipeline, tmp_path: Path):  # noqa: ANN201
    def build(police: list[dict], court: list[dict]):  # noqa: ANN202
        load_rows(pipeline, tmp_path, "population_10_17", POP)
        load_rows(pipeline, tmp_path, "police_outcomes", police)
        load_rows(pipeline, tmp_path, "court_disposals", court)
        return connect_analyst(pipeline.publish())

    return build


def test_first_time_entrants_by_the_definition(kpis, pipeline) -> None:  # noqa: ANN001
    con = kpis(
        police=[
            caution("A1", "23/0000001A", "2023-02-01", "2023-02-10"),
            caution("A2", "23/0000001A", "2024-05-01", "2024-05-10"),  # a second caution is not an FTE
            caution("B1", "23/0000002B", "2023-03-01", "2023-03-10", outcome_type="8"),  # community resolution
            caution("B2", "23/0000002B", "2023-06-01", "2023-06-10", outcome_type="22"),  # outcome 22
            caution("C1", "23/0000003C", "2023-04-01", "2023-04-10", outcome_type="8"),
            caution("C2", "23/0000003C", "2024-04-01", "2024-04-10"),  # first caution after a CR: FTE 2024
            caution("D1", "23/0000004D", "2024-07-01", "2024-07-10", dob="2006-06-30"),  # aged 18: out
            caution("F1", "23/0000006F", "2024-12-20", "2025-01-01"),  # counted by outcome date: 2025
        ],
        court=[conviction("E1", "23/0000005E", "2024-10-01", "2024-12-31")],  # conviction on 31 Dec: 2024
    )
    got = con.execute(
        "select year, fte_count, population_10_17, rate_per_100k from kpi.first_time_entrants order by year"
    ).fetchall()
    assert got == [(2023, 1, 10000, 10.0), (2024, 2, 10000, 20.0), (2025, 1, 10000, 10.0)]
    # the offence at 18 never reached the warehouse: it broke the contract's age rule
    assert pipeline.con.execute(
        "select rule_id from quarantine.row_problems where rule_id like '%age_10_17%'"
    ).fetchall() == [("police_outcomes.age_10_17_at_offence",)]


def test_a_reoffence_counts_when_proven_within_18_months_of_the_index_date(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[
            caution("R1", "23/0000010R", "2023-01-01", "2023-01-10"),
            caution("S1", "23/0000011S", "2023-01-05", "2023-01-15"),
            caution("T1", "23/0000012T", "2023-01-20", "2023-02-01"),
        ],
        court=[
            # R: committed in month 11, proven in month 17: counts
            conviction("R2", "23/0000010R", "2023-12-05", "2024-06-05"),
            # S: committed in month 11, proven in month 19: does not
            conviction("S2", "23/0000011S", "2023-12-01", "2024-08-20"),
        ],
    )
    row = con.execute(
        """select offenders, reoffenders, reoffences, binary_rate_pct, reoffences_per_reoffender
           from kpi.reoffending where cohort_type = 'quarter' and cohort_start = date '2023-01-01'"""
    ).fetchone()
    assert row == (3, 1, 1, 33.3, 1.0)


def test_a_rolling_cohort_holds_each_quarterly_index_event_in_its_four_quarters(kpis) -> None:  # noqa: ANN001
    # Issue 25 changed this test's expected rows (items 2 and 6): it used to expect rolling windows starting before
    # the first data held (2022-04-01 .. 2022-10-01) and one row per child per window (the child's first event of the
    # four quarters). By the MoJ's method a year is its four quarterly cohorts, a child counted in each quarter they
    # have an index event in, and a window is whole only when all four quarters lie within the data held.
    con = kpis(
        police=[
            caution("A1", "23/0000030A", "2023-01-02", "2023-01-10"),
            caution("A2", "23/0000030A", "2023-08-01", "2023-08-10"),
            caution("A3", "23/0000030A", "2023-08-20", "2023-09-01"),  # not the first of its quarter
            caution("A4", "23/0000030A", "2024-08-01", "2024-08-10"),  # the last quarter with an event
        ],
        court=[],
    )
    got = con.execute(
        """select cohort_type, cohort_start, cohort_end, index_date from conformed.reoffending_members
           order by cohort_type, cohort_end, index_date"""
    ).fetchall()
    assert [(t, str(s), str(e), str(i)) for t, s, e, i in got] == [
        ("quarter", "2023-01-01", "2023-03-31", "2023-01-10"),
        ("quarter", "2023-07-01", "2023-09-30", "2023-08-10"),
        ("quarter", "2024-07-01", "2024-09-30", "2024-08-10"),
        # the data held runs from 2023 Q1 to 2024 Q3: windows end 2023-12-31 at the earliest
        ("rolling_12_months", "2023-01-01", "2023-12-31", "2023-01-10"),  # the child in Q1 ...
        ("rolling_12_months", "2023-01-01", "2023-12-31", "2023-08-10"),  # ... and again in Q3
        ("rolling_12_months", "2023-04-01", "2024-03-31", "2023-08-10"),
        ("rolling_12_months", "2023-07-01", "2024-06-30", "2023-08-10"),
        ("rolling_12_months", "2023-10-01", "2024-09-30", "2024-08-10"),
        # no cohort ends after the last quarter of the data held
    ]


def test_custody_counts_each_sentence_once_by_financial_year(kpis) -> None:  # noqa: ANN001
    dto = {"disposal_type": "detention_training_order", "length_months": "4"}
    con = kpis(
        police=[caution("X1", "23/0000020X", "2023-01-01", "2023-01-10")],
        court=[
            conviction("K1", "23/0000021K", "2024-01-01", "2024-03-31", **dto),  # 2023-24
            conviction("K2", "23/0000022K", "2024-01-01", "2024-04-01", **dto),  # 2024-25
            conviction("K3", "23/0000023K", "2024-01-01", "2024-06-01", **dto),
            conviction("K4", "23/0000024K", "2024-01-01", "2024-06-01"),  # referral order: not custody
            conviction(
                "K5",
                "23/0000025K",
                "2024-01-01",
                "2024-07-01",
                remand_status="remand_youth_detention",
                verdict="acquitted",
                disposal_type="",
                length_months="",
            ),
        ],
    )
    got = con.execute(
        "select financial_year, custodial_sentences, remands_youth_detention, custody_rate_per_1000 "
        "from kpi.custody order by financial_year"
    ).fetchall()
    assert got == [("2023-24", 1, 0, 0.1), ("2024-25", 2, 1, 0.2)]


def test_oocd_usage_splits_formal_informal_and_diversion(kpis) -> None:  # noqa: ANN001
    con = kpis(
        police=[
            caution("O1", "23/0000030O", "2024-05-01", "2024-05-10"),
            caution("O2", "23/0000031O", "2024-05-01", "2024-05-10", child_gravity_matrix="4"),
            caution("O3", "", "2024-05-01", "2024-05-10", outcome_type="8"),
            caution("O4", "", "2024-05-01", "2024-05-10", outcome_type="22"),
            caution("O5", "", "2024-05-01", "2024-05-10", outcome_type="23"),
            caution("O6", "23/0000032O", "2024-05-01", "2024-05-10", outcome_type="1"),
        ],
        court=[],
    )
    got = con.execute(
        "select financial_year, formal_oocd, youth_conditional_cautions, informal_oocd, diversion, charged, "
        "oocd_share_pct from kpi.oocd_usage"
    ).fetchall()
    assert got == [("2024-25", 2, 1, 1, 2, 1, 83.3)]


def test_every_view_and_column_is_commented_and_catalogued(kpis) -> None:  # noqa: ANN001
    con = kpis(police=[caution("A1", "23/0000001A", "2023-02-01", "2023-02-10")], court=[])
    missing = con.execute(
        """select schema_name || '.' || object_name || coalesce('.' || column_name, '') from catalog
           where schema_name in ('kpi', 'conformed', 'core') and kind <> 'table'
             and (comment is null or comment = '')"""
    ).fetchall()
    assert missing == []
    views = {
        r[0]
        for r in con.execute("select object_name from catalog where schema_name = 'kpi' and kind = 'view'").fetchall()
    }
    assert {"first_time_entrants", "reoffending", "custody", "oocd_usage"} <= views
