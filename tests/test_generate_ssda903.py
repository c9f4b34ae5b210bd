"""A clean synthetic partnership's children's social care feeds (cic_header, cic_episodes, cic_oc2) break none of
the DfE's SSDA903 rules, loaded through the real load path; only an injected defect fails, under the rule named
for it."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from sandbox.generate import DEFECTS, generate

FEEDS = ("cic_episodes", "cic_header", "cic_oc2")  # Episodes first: the others take its collection year
PERIOD = (dt.date(2025, 4, 1), dt.date(2026, 3, 31))


def _failing(pipeline, root: Path, order=FEEDS, period=None) -> dict[tuple[str, str], int]:  # noqa: ANN001
    found: dict[tuple[str, str], int] = {}
    for feed in order:
        path = root / "childrens_social_care" / f"{feed}.csv"
        r = pipeline.load(pipeline.land_file(feed, path, **({"period": period} if period else {})))
        assert r.status == "loaded", (feed, r.summary)
        for rule_id, n in pipeline.con.execute(
            "select rule_id, count(*) from quarantine.row_problems where load_id = ? group by all", [r.load_id]
        ).fetchall():
            found[(feed, rule_id)] = n
    return found


@pytest.mark.parametrize("seed,children", [(7, 300), (11, 300), (7, 700), (11, 700)])
def test_a_clean_partnership_breaks_no_ssda903_rule(pipeline, tmp_path: Path, seed: int, children: int) -> None:
    generate(tmp_path / "p", seed=seed, children=children, years=3)
    assert _failing(pipeline, tmp_path / "p") == {}


@pytest.mark.parametrize("seed,children", [(5, 250), (11, 700)])
def test_no_ssda903_rule_fails_whatever_order_the_feeds_arrive_in(
    pipeline,  # noqa: ANN001
    tmp_path: Path,
    seed: int,
    children: int,
) -> None:
    generate(tmp_path / "p", seed=seed, children=children)
    order = ("cic_header", "cic_oc2", "cic_episodes")
    assert _failing(pipeline, tmp_path / "p", order=order, period=PERIOD) == {}


def test_the_injected_903_defect_is_the_only_failure(pipeline, tmp_path: Path) -> None:  # noqa: ANN001
    manifest = generate(tmp_path / "p", seed=11, children=300, defects=["old_sex_codes"])
    (defect,) = manifest["defects"]
    assert (defect["feed"], defect["rule_id"]) == DEFECTS["old_sex_codes"]
    found = _failing(pipeline, tmp_path / "p")
    assert found.pop(("cic_header", "903-101")) == len(defect["lines"])
    # Those Header rows are quarantined (903-101 is an error), so their children's other rows may lack a Header.
    assert {rule for _, rule in found} <= {"903-INT03", "903-INT05"}, found


def test_children_turning_18_in_the_year_leave_care_or_stay_on_in_a_childrens_home(tmp_path: Path) -> None:
    """903-359: a child who turns 18 before 31 March is no longer looked after, or is accommodated under section 20
    in a children's home (V2 in K2); a period that ended in the year has no OC2 row."""
    generate(tmp_path / "p", seed=11, children=700)
    root = tmp_path / "p" / "childrens_social_care"
    dob = {r["CHILD"]: _date(r["DOB"]) for r in csv.DictReader((root / "cic_header.csv").open())}
    episodes = list(csv.DictReader((root / "cic_episodes.csv").open()))
    oc2 = {r["CHILD"] for r in csv.DictReader((root / "cic_oc2.csv").open())}
    reasons = set()
    for e in episodes:
        turns_18 = dob[e["CHILD"]].replace(year=dob[e["CHILD"]].year + 18)
        if not e["DEC"]:
            assert turns_18 >= PERIOD[1] or (e["LS"], e["PLACE"]) == ("V2", "K2"), e
        elif e["REC"] != "X1":
            assert _date(e["DEC"]) <= turns_18 and e["CHILD"] not in oc2, e
            reasons.add(e["REC"])
    assert {"E17", "E5"} <= reasons, reasons  # the ordinary ways out of care at 18 are there


def _date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d/%m/%Y").date()
