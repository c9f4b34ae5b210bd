"""Disclosure control in the published schema: small counts suppressed, nothing recoverable by subtraction, no rate
on a small numerator."""

from __future__ import annotations

from pathlib import Path

import yaml

from expectations.contract import all_contracts
from warehouse.db import connect_analyst
from warehouse.disclosure import SPEC, suppress_row, suppress_rows

RULES = yaml.safe_load(SPEC.read_text())


def test_small_counts_and_their_rates_are_suppressed() -> None:
    fte = RULES["first_time_entrants"]
    assert suppress_row({"fte_count": 3, "population_10_17": 9000, "rate_per_100k": 33.3}, fte, 5) == {
        "fte_count",
        "rate_per_100k",
    }
    assert suppress_row({"fte_count": 0, "population_10_17": 9000, "rate_per_100k": 0.0}, fte, 5) == {
        "rate_per_100k"
    }  # zero is not disclosive, but no rate on a numerator under the threshold
    assert suppress_row({"fte_count": 12, "population_10_17": 9000, "rate_per_100k": 133.3}, fte, 5) == set()


def test_a_total_never_reveals_a_suppressed_part() -> None:
    oocd = RULES["oocd_usage"]
    row = {
        "youth_cautions": 3,
        "youth_conditional_cautions": 7,
        "formal_oocd": 10,
        "community_resolutions": 20,
        "informal_oocd": 20,
        "outcome_22": 2,
        "outcome_23": 9,
        "diversion": 11,
        "charged": 30,
        "oocd_total": 41,
        "oocd_interventions_ended": 40,
        "oocd_interventions_completed": 38,
    }
    hidden = suppress_row(row, oocd, 5)
    # formal_oocd = cautions + conditional: with 3 hidden and 10 shown, 7 must go too; likewise diversion's parts
    assert {"youth_cautions", "youth_conditional_cautions", "outcome_22", "outcome_23"} <= hidden
    # 40 ended and 38 completed would reveal 2 not completed: the completed count goes
    assert {"oocd_interventions_completed", "oocd_completion_pct"} <= hidden
    assert not {"formal_oocd", "diversion", "oocd_total", "charged"} & hidden


def test_a_cascade_through_overlapping_totals() -> None:
    oocd = RULES["oocd_usage"]
    row = {
        "youth_cautions": 0,
        "youth_conditional_cautions": 4,
        "formal_oocd": 4,
        "community_resolutions": 30,
        "informal_oocd": 30,
        "outcome_22": 12,
        "outcome_23": 9,
        "diversion": 21,
        "charged": 5,
        "oocd_total": 55,
    }
    hidden = suppress_row(row, oocd, 5)
    # conditional (4) and formal (4) are small; formal hidden inside oocd_total forces the next smallest part
    assert {"youth_conditional_cautions", "formal_oocd", "diversion"} <= hidden
    assert "oocd_total" not in hidden


def test_a_group_of_rows_adding_up_to_a_published_total_never_has_one_suppressed_cell() -> None:
    # looked after + not looked after = every child's outcomes, which oocd_usage publishes: with 3 looked-after
    # charges hidden and 40 other charges shown, the total of 43 would give the 3 away
    rows = [
        {"la_code": "E06000015", "financial_year": "2024-25", "care_status": "looked_after", "children": 9,
         "offences": 12, "out_of_court": 9, "charged": 3},
        {"la_code": "E06000015", "financial_year": "2024-25", "care_status": "not_looked_after", "children": 150,
         "offences": 200, "out_of_court": 160, "charged": 40},
        {"la_code": "E06000015", "financial_year": "2025-26", "care_status": "not_looked_after", "children": 90,
         "offences": 100, "out_of_court": 70, "charged": 30},
    ]  # fmt: skip
    hidden = suppress_rows(rows, RULES["children_in_care"], 5)
    assert hidden[0] == {"charged", "out_of_court_pct"}
    assert hidden[1] == {"charged", "out_of_court_pct"}  # the secondary cell, and the rate that would reveal it
    assert hidden[2] == set()  # another year is its own group


def test_a_relative_rate_never_reveals_the_reference_rows_suppressed_cells() -> None:
    rows = [
        {"la_code": "E1", "financial_year": "2024-25", "ethnic_group": g, "children": c, "out_of_court": o,
         "charged": ch, "convicted": 0, "custody": 0}
        for g, c, o, ch in (("White", 40, 37, 3), ("Black", 30, 20, 10), ("Asian", 30, 22, 8))
    ]  # fmt: skip
    hidden = suppress_rows(rows, RULES["disproportionality"], 5)
    assert "charged" in hidden[0]  # 3 White children charged
    assert all("charged_relative_rate" in h for h in hidden)  # every rate against White children goes with it
    assert "charged" in hidden[2]  # and the next smallest charged cell, so the 3 cannot be had from a total


def test_reoffending_complements_and_rates(pipeline, partnership: Path) -> None:
    reoff = RULES["reoffending"]
    hidden = suppress_row(
        {
            "offenders": 6,
            "reoffenders": 5,
            "reoffences": 9,
            "binary_rate_pct": 83.3,
            "reoffences_per_reoffender": 1.8,
            "reoffences_per_offender": 1.5,
        },
        reoff,
        5,
    )
    assert hidden == {"reoffenders", "binary_rate_pct", "reoffences_per_reoffender"}


def test_published_views_hold_no_recoverable_small_cell(pipeline, partnership: Path) -> None:
    for feed, c in all_contracts().items():
        pipeline.load(pipeline.land_file(feed, partnership / c.partner / f"{feed}.csv"))
    con = connect_analyst(pipeline.publish())
    threshold = pipeline.cfg.disclosure_threshold
    checked = 0
    for view, rules in RULES.items():
        rel = con.sql(f"select * from published.{view}")
        rows = [dict(zip(rel.columns, values, strict=True)) for values in rel.fetchall()]
        for row in rows:
            for col in rules["counts"]:
                assert row[col] is None or row[col] == 0 or row[col] >= threshold, (view, col, row)
            for group in rules.get("sums", []):
                if row[group["total"]] is not None:
                    assert sum(row[p] is None for p in group["parts"]) != 1, (view, group, row)
            for rate, (numerator, *inputs) in rules.get("rates", {}).items():
                if row[rate] is not None:
                    assert row[numerator] is not None and row[numerator] >= threshold, (view, rate, row)
                    assert all(row[i] is not None for i in inputs), (view, rate, row)
            checked += 1
        for part in rules.get("partitions", []):
            groups: dict[tuple, list[dict]] = {}
            for row in rows:
                groups.setdefault(tuple(row[c] for c in part["by"]), []).append(row)
            for members in groups.values():
                for col in part["counts"]:
                    # one suppressed cell among shown ones could be recovered from the total published elsewhere,
                    # unless nothing else is shown: then the total is that same small count, suppressed there too
                    if sum(r[col] is None for r in members) == 1:
                        assert not any(r[col] for r in members), (view, col, members)
    assert checked > 100
    # the board pack's long view carries the same suppression: no figure on a small count
    leaks = con.execute(
        f"""select measure, period, numerator, value from published.measures
            where value is not null and denominator is not null and (numerator is null or numerator < {threshold})"""
    ).fetchall()
    assert leaks == []
    assert con.execute("select count(*) from published.measures where suppressed").fetchone()[0] > 0
    assert checked > 20
    suppressed = con.execute("select count(*) from published.oocd_usage where len(suppressed_cells) > 0").fetchone()
    assert suppressed[0] > 0  # the synthetic partnership does have small cells
    comment = con.execute(
        "select comment from duckdb_tables() where schema_name = 'published' and table_name = 'first_time_entrants'"
    ).fetchone()[0]
    assert "Disclosure-controlled" in comment


def test_a_suppressed_cell_is_determined_exactly_when_the_equations_pin_it_down() -> None:
    """The test behind secondary suppression (warehouse.disclosure._determined): each equation sums its cells to
    zero; a hidden cell is determined when the equations and the shown cells give its value."""
    from warehouse.disclosure import _determined

    def eq(*cells: str, total: str) -> dict:
        return {**{("v", int(c[1:])): 1 for c in cells}, ("v", int(total[1:])): -1}

    x1, x2, x3, x4 = ("v", 1), ("v", 2), ("v", 3), ("v", 4)
    # alone among the hidden in an equation: determined outright
    assert _determined([eq("x1", "x2", total="x9")], [x1]) == [x1]
    # two hidden cells in one sum: neither can be worked out
    assert _determined([eq("x1", "x2", total="x9")], [x1, x2]) == []
    # three pairwise sums of three hidden cells: each is determined, though no equation holds one alone
    pairs = [eq("x1", "x2", total="x7"), eq("x2", "x3", total="x8"), eq("x1", "x3", total="x9")]
    assert sorted(_determined(pairs, [x1, x2, x3])) == [x1, x2, x3]
    # a chain that does not close: x1 + x2 and x2 + x3 known leave every one free
    assert _determined(pairs[:2], [x1, x2, x3]) == []
    # a difference of two sums pins down what they do not share: (x1 + x2 + x3) - (x2 + x3) = x1, not x2 or x3
    nested = [eq("x1", "x2", "x3", total="x8"), eq("x2", "x3", total="x9")]
    assert _determined(nested, [x1, x2, x3]) == [x1]
    assert _determined([*nested, eq("x3", "x4", total="x7")], [x1, x2, x3, x4]) == [x1]
