"""The conformed core: one child across agencies, through the identifiers each holds."""

from __future__ import annotations

from pathlib import Path

from expectations.contract import all_contracts
from tests.conftest import TEST_KEY
from tests.helpers import write_extract
from warehouse.db import connect_analyst
from warehouse.pseudonymise import pseudonym


def test_one_child_links_across_police_courts_yos_and_social_care(pipeline, tmp_path: Path) -> None:
    def load(feed: str, rows: list[dict]) -> None:
        pipeline.load(pipeline.land_file(feed, write_extract(tmp_path / f"{feed}.csv", feed, rows)))

    load("police_outcomes", [{"outcome_id": "P1", "pnc_id": "20/0000001A", "force_person_id": "DP7"}])
    load("court_disposals", [{"disposal_id": "D1", "pnc_id": "20/0000001A"}])
    load(
        "yos_interventions",
        [
            {
                "intervention_id": "I1",
                "yos_child_id": "YJ1",
                "pnc_id": "20/0000001A",
                "la_child_id": "C000009",
                "dob": "2008-06-15",
                "sex": "F",
                "ethnicity": "MWBC",
                "home_la_code": "E06000015",
                "intervention_type": "referral_order",
                "start_date": "2024-05-10",
            }
        ],
    )
    load(
        "cic_header", [{"CHILD": "C000009", "SEX": "F", "DOB": "15/06/2008", "ETHNIC": "MWBC", "UPN": "A123456789012"}]
    )
    load("police_outcomes", [{"outcome_id": "P2", "pnc_id": "", "force_person_id": "DP8"}])  # another child
    problems = pipeline.con.execute("select rule_id, value from quarantine.row_problems").fetchall()
    assert problems == []
    con = connect_analyst(pipeline.publish())
    children = con.execute(
        "select child_key, birth_month::varchar, sex, is_known_to_yos, is_known_to_police, is_known_to_courts, "
        "is_looked_after from conformed.children order by child_key"
    ).fetchall()
    yos_key = "yos:" + pseudonym(TEST_KEY, "yos_child", "YJ1")
    assert children == [
        ("force:" + pseudonym(TEST_KEY, "police_person", "DP8"), "2008-06-01", "M", False, True, False, False),
        (yos_key, "2008-06-01", "F", True, True, True, True),
    ]
    keys = {r[0] for r in con.execute("select distinct child_key from conformed.offences").fetchall()}
    assert yos_key in keys


def test_every_identifier_belongs_to_exactly_one_child(pipeline, partnership: Path) -> None:
    for feed, c in all_contracts().items():
        pipeline.load(pipeline.land_file(feed, partnership / c.partner / f"{feed}.csv"))
    con = connect_analyst(pipeline.publish())
    dupes = con.execute(
        "select identifier_kind, identifier from conformed.child_identifiers group by all having count(*) > 1"
    ).fetchall()
    assert dupes == []
    linked = con.execute(
        "select count(*) from conformed.children where is_known_to_yos and is_known_to_police and is_looked_after"
    ).fetchone()[0]
    assert linked > 0
