"""The DfE's SSDA903 rules, each with a row (or a child's rows) that breaks it and a near miss that passes, in every
collection year the rule is in force, through the real load path (land, stage, validate through GX, quarantine).

The cases are written from each rule's meaning (the catalogue's message, the DfE's guidance). To stay fast, every
case of a feed and year goes into one extract: each case is its own child, so cases cannot disturb each other. A
near-miss child must break no SSDA903 rule at all; a breaking child must break its rule on the rows named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from expectations import ssda903
from tests.helpers import write_extract

YEARS = ssda903.YEARS
Value = str | Callable[[int], str]


def day(month: int, d: int) -> Callable[[int], str]:
    """A day of the collection year: April-December of its first calendar year, January-March of the next."""
    return lambda y: dt.date(y if month >= 4 else y + 1, month, d).strftime("%d/%m/%Y")


def offset(days: int) -> Callable[[int], str]:
    """``days`` after 1 April of the collection year."""
    return lambda y: (dt.date(y, 4, 1) + dt.timedelta(days=days)).strftime("%d/%m/%Y")


def born(years_before: int, month: int = 6, d: int = 1) -> Callable[[int], str]:
    """A date of birth ``years_before`` the calendar year the collection year starts in."""
    return lambda y: dt.date(y - years_before, month, d).strftime("%d/%m/%Y")


def male(y: int) -> str:
    return "1" if y < 2024 else "M"


def female(y: int) -> str:
    return "2" if y < 2024 else "F"


@dataclass
class Case:
    code: str
    feed: str
    bad: list[dict[str, Value]]
    good: list[dict[str, Value]]
    fails: list[int] = field(default_factory=lambda: [0])  # rows of ``bad`` that must carry the rule


HEADER = {"SEX": female, "DOB": "01/06/2012", "ETHNIC": "WBRI", "UPN": "", "MOTHER": "", "MC_DOB": ""}
MOTHER = {"SEX": female, "DOB": "01/06/2007", "MOTHER": "1", "MC_DOB": day(1, 1)}
EPISODE = {
    "DECOM": day(5, 15), "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "U1", "PLACE_PROVIDER": "PR1", "DEC": "",
    "REC": "", "REASON_PLACE_CHANGE": "", "HOME_POST": "DE1 2AB", "PL_POST": "DE22 1AB", "URN": "",
}  # fmt: skip
OC2 = {
    "DOB": "01/06/2012", "SDQ_SCORE": "12", "SDQ_REASON": "", "CONVICTED": "0", "HEALTH_CHECK": "",
    "IMMUNISATIONS": "1", "TEETH_CHECK": "1", "HEALTH_ASSESSMENT": "1", "SUBSTANCE_MISUSE": "0",
    "INTERVENTION_RECEIVED": "", "INTERVENTION_OFFERED": "",
}  # fmt: skip
RESPITE = {"LS": "V3", "PLACE": "U3", "HOME_POST": "", "PL_POST": "", "DEC": day(5, 20), "REC": "E8"}
MOVE = [  # a clean change of placement: U1 until 15 May, then U3
    {"DECOM": day(4, 10), "DEC": day(5, 15), "REC": "X1", "REASON_PLACE_CHANGE": "CARPL"},
    {"DECOM": day(5, 15), "RNE": "P", "PLACE": "U3"},
]


def temp_stay(place: str = "T1", **temp: Value) -> list[dict[str, Value]]:
    """U1, a temporary placement, then back to U1 at the same postcode."""
    return [
        {"DECOM": day(4, 10), "DEC": day(5, 15), "REC": "X1"},
        {"DECOM": day(5, 15), "DEC": day(5, 20), "REC": "X1", "RNE": "P", "PLACE": place, "PLACE_PROVIDER": "",
         **temp},
        {"DECOM": day(5, 20), "RNE": "P"},
    ]  # fmt: skip


def respite_runs(n: int, ls: list[str] | None = None) -> list[dict[str, Value]]:
    """``n`` respite breaks of 16 days, 20 days apart."""
    return [
        {**RESPITE, "LS": (ls or ["V3"] * n)[i], "DECOM": offset(10 + 20 * i), "DEC": offset(26 + 20 * i)}
        for i in range(n)
    ]


def holidays(n: int) -> list[dict[str, Value]]:
    """U1, then ``n`` times: a T3 holiday placement of 5 days and back to U1."""
    rows: list[dict[str, Value]] = [{"DECOM": offset(5), "DEC": offset(20), "REC": "X1"}]
    for i in range(n):
        start = 20 + 30 * i
        rows.append({"DECOM": offset(start), "DEC": offset(start + 5), "REC": "X1", "RNE": "P", "PLACE": "T3",
                     "PLACE_PROVIDER": ""})  # fmt: skip
        last = i == n - 1
        rows.append({"DECOM": offset(start + 5), "RNE": "P", **({} if last else {"DEC": offset(start + 30),
                                                                                "REC": "X1"})})  # fmt: skip
    return rows


H, E, O = "cic_header", "cic_episodes", "cic_oc2"  # noqa: E741
CASES = [
    # Header
    Case("101", H, [{"SEX": "X"}], [{"SEX": male}]),
    Case("102", H, [{"DOB": "31/02/2012"}], [{"DOB": "28/02/2012"}]),
    Case("103", H, [{"ETHNIC": "WHITE"}], [{"ETHNIC": "BAFR"}]),
    Case("103", H, [{"ETHNIC": ""}], [{"ETHNIC": "NOBT"}]),
    Case("168", H, [{"UPN": "I123456789012"}], [{"UPN": "UN3"}]),
    Case("168", H, [{"UPN": "S12345678901A"}], [{"UPN": "T12345678901A"}]),
    Case("168", H, [{"UPN": "UN6"}], [{"UPN": "UN5"}]),
    Case("442", H, [{"UPN": ""}], [{"UPN": "UN2"}]),
    Case("171", H, [{**MOTHER, "MC_DOB": "2022-01-01"}], [MOTHER]),
    Case("174", H, [{**MOTHER, "SEX": male}], [MOTHER]),
    Case("209", H, [{"UPN": "UN1"}], [{"UPN": "UN1", "DOB": born(1, 1, 1)}]),
    Case("232", H, [{"SEX": "U"}], [{"SEX": "F"}]),
    Case("301", H, [{"DOB": lambda y: f"01/04/{y + 1}"}], [{"DOB": lambda y: f"31/03/{y + 1}"}]),
    Case("351", H, [{"DOB": lambda y: f"31/03/{y - 25}"}], [{"DOB": lambda y: f"02/04/{y - 25}"}]),
    Case("611", H, [{**MOTHER, "MC_DOB": ""}], [MOTHER]),
    Case("612", H, [{**MOTHER, "MOTHER": "0"}], [MOTHER]),
    Case("620", H, [{**MOTHER, "DOB": born(10)}], [{**MOTHER, "DOB": born(11, 3, 1)}]),
    Case("621", H, [{**MOTHER, "MC_DOB": "01/06/2006"}], [{**MOTHER, "MC_DOB": "01/06/2022"}]),
    Case(
        "444", H, [{"UPN": "A999999999999"}, {"UPN": "A999999999999"}], [{"UPN": "UN4"}, {"UPN": "UN4"}], fails=[0, 1]
    ),  # fmt: skip
    Case("INT32", H, [{}, {"CHILD": "same"}], [{}], fails=[1]),
    # Episodes, within a row
    Case("141", E, [{"DECOM": "2024-05-15"}], [{}]),
    Case("147", E, [{"DEC": "31/13/2024", "REC": "E8"}], [{"DEC": day(6, 1), "REC": "E8"}]),
    Case("143", E, [{"RNE": "Z"}], [{}]),
    Case("144", E, [{"LS": "C9"}], [{"LS": "C1"}]),
    Case("145", E, [{"CIN": "N9"}], [{"CIN": "N8"}]),
    Case("146", E, [{"PLACE": lambda y: "K3" if y < 2025 else "H5"}], [{"PLACE": "K2"}]),
    Case("149", E, [{"DEC": day(6, 1), "REC": "E99"}], [{"DEC": day(6, 1), "REC": "E8"}]),
    Case("178", E, [{"PLACE_PROVIDER": "PR9"}], [{"PLACE_PROVIDER": "PR4"}]),
    Case(
        "1009",
        E,
        [{"DEC": day(6, 1), "REC": "E8", "REASON_PLACE_CHANGE": "MOVED"}],
        [{"DEC": day(6, 1), "REC": "E8", "REASON_PLACE_CHANGE": "CARPL"}],
    ),  # fmt: skip
    Case("148", E, [{"DEC": day(6, 1)}], [{"DEC": day(6, 1), "REC": "E8"}]),
    Case("148", E, [{"REC": "E8"}], [{}]),
    Case("356", E, [{"DEC": day(5, 1), "REC": "E8"}], [{"DEC": day(5, 20), "REC": "E8"}]),
    Case("213", E, temp_stay(PLACE_PROVIDER="PR1"), temp_stay(), fails=[1]),
    Case("214", E, [{**RESPITE, "PL_POST": "DE1 1AA"}], [RESPITE]),
    Case("217", E, [{"PLACE": "A3", "RNE": "P"}], [{"PLACE": "A3"}]),
    Case("217t", E, [{"PLACE": "P2", "DECOM": day(11, 1)}], [{"PLACE": "P2", "DECOM": day(10, 1)}]),
    Case(
        "222",
        E,
        [{"PLACE": "P1", "PLACE_PROVIDER": "PR0", "URN": "SC123456"}],
        [{"PLACE": "P1", "PLACE_PROVIDER": "PR0"}],
    ),  # fmt: skip
    Case("226", E, temp_stay(REASON_PLACE_CHANGE="CARPL"), temp_stay(), fails=[1]),
    Case(
        "233", E, [{"REASON_PLACE_CHANGE": "CARPL"}], [{"DEC": day(6, 1), "REC": "E8", "REASON_PLACE_CHANGE": "CARPL"}]
    ),
    Case("353", E, [{"DECOM": "01/01/1990"}], [{"DECOM": "14/10/1991"}]),
    Case("354", E, [{"DECOM": lambda y: f"01/04/{y + 1}"}], [{"DECOM": lambda y: f"31/03/{y + 1}"}]),
    Case(
        "385", E, [{"DEC": lambda y: f"01/04/{y + 1}", "REC": "E8"}], [{"DEC": lambda y: f"31/03/{y + 1}", "REC": "E8"}]
    ),
    Case("355", E, [{"DEC": day(5, 15), "REC": "E8"}], [{"DEC": day(5, 16), "REC": "E8"}]),
    Case("361", E, [{"LS": "L1", "DEC": day(5, 19), "REC": "E8"}], [{"LS": "L1", "DEC": day(5, 18), "REC": "E8"}]),
    Case("362", E, [{"LS": "L2", "DEC": day(6, 6), "REC": "E8"}], [{"LS": "L2", "DEC": day(6, 5), "REC": "E8"}]),
    Case("363", E, [{"LS": "L3", "DEC": day(5, 23), "REC": "E8"}], [{"LS": "L3", "DEC": day(5, 22), "REC": "E8"}]),
    Case("364", E, [{"LS": "J2", "DEC": day(6, 6), "REC": "E8"}], [{"LS": "J2", "DEC": day(6, 5), "REC": "E8"}]),
    Case("365", E, [{**RESPITE, "DEC": day(6, 2)}], [{**RESPITE, "DEC": day(6, 1)}]),
    Case("366", E, [{**RESPITE, "RNE": "P"}], [RESPITE]),
    Case("378", E, [{"PLACE": "P1", "PLACE_PROVIDER": "PR0", "LS": "V2"}], [{"PLACE": "P1", "PLACE_PROVIDER": "PR0"}]),
    Case("380", E, [{"PLACE": "T0", "PLACE_PROVIDER": ""}], temp_stay("T0")),
    Case("381", E, temp_stay("T2", REC="E8")[:2], temp_stay("T2"), fails=[1]),
    Case("382", E, [{**RESPITE, "PLACE": "T1", "PLACE_PROVIDER": ""}], [RESPITE]),
    Case("384", E, [{**RESPITE, "PLACE": "U4"}], [RESPITE]),
    Case(
        "392d",
        E,
        [{"HOME_POST": "DE1 2AB", "PL_POST": "DE12AB"}],
        [{"HOME_POST": "DE1 2AB", "PL_POST": "DE1 2AB", "PLACE": "P1", "PLACE_PROVIDER": "PR0"}],
    ),  # fmt: skip
    Case("398", E, [{**RESPITE, "HOME_POST": "DE1 2AB"}], [RESPITE]),
    Case("408", E, [{"PLACE": "A5"}], [{"PLACE": "A5", "LS": "E1"}]),
    Case("445", E, [{"LS": "D1"}], [{"LS": "D1", "DECOM": "01/06/2005", "DEC": day(5, 1), "REC": "E8"}]),
    Case("446", E, [{"LS": "E1", "DECOM": "01/06/2005"}], [{"LS": "E1", "DECOM": "01/01/2006"}]),
    Case(
        "451",
        E,
        [{"LS": "D1", "DECOM": "01/06/2005"}],
        [{"LS": "D1", "DECOM": "01/06/2005", "DEC": day(5, 1), "REC": "E8"}],
    ),
    Case("516", E, [{"PLACE": "K2", "DEC": day(6, 1), "REC": "E45"}], [{"DEC": day(6, 1), "REC": "E45"}]),
    Case("526", E, [{"PLACE_PROVIDER": ""}], temp_stay()),
    Case("527", E, [{"PLACE": "R2", "PLACE_PROVIDER": "PR1"}], [{"PLACE": "R2", "PLACE_PROVIDER": "PR3"}]),
    Case("528", E, [{"PLACE": "R5", "PLACE_PROVIDER": "PR2"}], [{"PLACE": "R5", "PLACE_PROVIDER": "PR3"}]),
    Case("529", E, [{"PLACE": "K2", "PLACE_PROVIDER": "PR3"}], [{"PLACE": "K2", "PLACE_PROVIDER": "PR4"}]),
    Case("530", E, [{"PLACE": "P1", "PLACE_PROVIDER": "PR4"}], [{"PLACE": "P1", "PLACE_PROVIDER": "PR0"}]),
    Case("531", E, [{"PLACE": "P1", "PLACE_PROVIDER": "PR5"}], [{"PLACE": "P1", "PLACE_PROVIDER": "PR0"}]),
    Case("550", E, [{"PLACE": "K2", "PLACE_PROVIDER": "PR0"}], [{"PLACE": "P1", "PLACE_PROVIDER": "PR0"}]),
    # Episodes, across a child's rows
    Case("142", E, [{"DECOM": day(4, 10)}, {"RNE": "P", "PLACE": "U3"}], MOVE),
    Case("225", E, [{**MOVE[0], "REASON_PLACE_CHANGE": ""}, MOVE[1]], MOVE),
    Case(
        "336",
        E,
        [{**MOVE[0], "PLACE": "K2"}, {**MOVE[1], "PLACE": "A6", "LS": "E1", "RNE": "B"}],
        [MOVE[0], {**MOVE[1], "PLACE": "A6", "LS": "E1", "RNE": "B"}],
        fails=[1],
    ),  # fmt: skip
    Case("357", E, [{"RNE": "P"}], [{"RNE": "P", "DECOM": lambda y: f"01/03/{y}"}]),
    Case("367", E, respite_runs(5), respite_runs(4), fails=[0, 1, 2, 3, 4]),
    Case("377", E, holidays(3), holidays(2), fails=[1, 3, 5]),
    Case("383", E, [*temp_stay()[:2], {**temp_stay()[2], "PLACE": "U3"}], temp_stay(), fails=[1]),
    Case("388", E, [{"DEC": day(6, 1), "REC": "X1"}], MOVE),
    Case(
        "390",
        E,
        [{"DEC": day(6, 1), "REC": "E11"}],
        [MOVE[0], {**MOVE[1], "RNE": "T", "PLACE": "A3", "DEC": day(7, 1), "REC": "E11"}],
    ),  # fmt: skip
    Case("426", E, respite_runs(2, ["V3", "V4"]), respite_runs(2), fails=[0, 1]),
    Case("431", E, [MOVE[0], {**MOVE[1], "RNE": "S"}], MOVE, fails=[1]),
    Case(
        "432",
        E,
        [{**MOVE[0], "REC": "E8", "REASON_PLACE_CHANGE": ""}, {**MOVE[1], "DECOM": day(6, 1)}],
        [{**MOVE[0], "REC": "E8", "REASON_PLACE_CHANGE": ""}, {**MOVE[1], "DECOM": day(6, 1), "RNE": "S"}],
        fails=[1],
    ),  # fmt: skip
    Case("433", E, [MOVE[0], {**MOVE[1], "DECOM": day(5, 16)}], MOVE, fails=[1]),
    Case(
        "434",
        E,
        [{**MOVE[0], "REASON_PLACE_CHANGE": ""}, {**MOVE[1], "RNE": "L", "LS": "C1"}],
        [{**MOVE[0], "REASON_PLACE_CHANGE": ""}, {**MOVE[1], "RNE": "L", "LS": "C1", "PLACE": "U1"}],
        fails=[1],
    ),  # fmt: skip
    Case("435", E, [MOVE[0], {**MOVE[1], "LS": "C1"}], MOVE, fails=[1]),
    Case("436", E, [MOVE[0], {**MOVE[1], "RNE": "B"}], [MOVE[0], {**MOVE[1], "RNE": "B", "LS": "C1"}], fails=[1]),
    Case(
        "437",
        E,
        [{**MOVE[0], "REC": "E15", "REASON_PLACE_CHANGE": ""}, {**MOVE[1], "DECOM": day(6, 1), "RNE": "S"}],
        [{**MOVE[0], "REC": "E8", "REASON_PLACE_CHANGE": ""}, {**MOVE[1], "DECOM": day(6, 1), "RNE": "S"}],
    ),  # fmt: skip
    Case("501", E, [{**MOVE[0], "DEC": day(6, 1)}, MOVE[1]], MOVE, fails=[1]),
    Case("504", E, [MOVE[0], {**MOVE[1], "CIN": "N2"}], MOVE, fails=[1]),
    # OC2
    Case(
        "158",
        O,
        [{"SUBSTANCE_MISUSE": "1", "INTERVENTION_RECEIVED": "1", "INTERVENTION_OFFERED": "0"}],
        [{"SUBSTANCE_MISUSE": "1", "INTERVENTION_RECEIVED": "1"}],
    ),  # fmt: skip
    Case(
        "159",
        O,
        [{"SUBSTANCE_MISUSE": "1", "INTERVENTION_RECEIVED": "0"}],
        [{"SUBSTANCE_MISUSE": "1", "INTERVENTION_RECEIVED": "0", "INTERVENTION_OFFERED": "1"}],
    ),  # fmt: skip
    Case("180", O, [{"SDQ_SCORE": "41"}], [{"SDQ_SCORE": "40"}]),
    Case("180", O, [{"SDQ_SCORE": "twelve"}], [{"SDQ_SCORE": "0"}]),
    Case("181", O, [{"CONVICTED": "Y"}], [{"CONVICTED": "1"}]),
    Case("182", O, [{"TEETH_CHECK": ""}], [{}]),
    Case("188", O, [{"DOB": born(2)}], [{"DOB": born(2), "SDQ_SCORE": "", "CONVICTED": "", "HEALTH_CHECK": "1"}]),
    Case("189", O, [{"DOB": born(17, 1, 1)}], [{"DOB": born(17, 1, 1), "SDQ_SCORE": ""}]),
    Case("192", O, [{"SUBSTANCE_MISUSE": "1"}], [{"SUBSTANCE_MISUSE": "1", "INTERVENTION_RECEIVED": "1"}]),
    Case("193", O, [{"INTERVENTION_RECEIVED": "1"}], [{}]),
    Case("196", O, [{"SDQ_SCORE": "", "SDQ_REASON": "SDQ9"}], [{"SDQ_SCORE": "", "SDQ_REASON": "SDQ2"}]),
    Case("197a", O, [{"SDQ_REASON": "SDQ2"}], [{}]),
    Case("157", O, [{"SDQ_SCORE": "", "SDQ_REASON": "SDQ1"}], [{"SDQ_SCORE": "", "SDQ_REASON": "SDQ2"}]),
    Case("542", O, [{"DOB": born(8)}], [{"DOB": born(8), "CONVICTED": ""}]),
    Case("544", O, [{"IMMUNISATIONS": ""}], [{}]),
    Case("546", O, [{"HEALTH_CHECK": "1"}], [{}]),
    Case(
        "547",
        O,
        [{"DOB": born(3), "SDQ_SCORE": "", "CONVICTED": "", "HEALTH_CHECK": "1", "TEETH_CHECK": ""}],
        [{"DOB": born(3), "SDQ_SCORE": "", "CONVICTED": "", "HEALTH_CHECK": "1"}],
    ),  # fmt: skip
    Case("INT33", O, [{}, {"CHILD": "same"}], [{}], fails=[1]),
]
BASE = {H: HEADER, E: EPISODE, O: OC2}


def _rows(year: int, feed: str) -> tuple[list[dict[str, str]], dict[int, tuple[str, str, bool]]]:
    """Every case of ``feed`` in force in ``year`` as rows of one extract, and each line's (case, rule, must fail)."""
    rows: list[dict[str, str]] = []
    lines: dict[int, tuple[str, str, bool]] = {}
    upn = 0
    for n, case in enumerate(c for c in CASES if c.feed == feed and ssda903.in_force(c.code, year)):
        for kind, child_rows in (("bad", case.bad), ("good", case.good)):
            for i, over in enumerate(child_rows):
                # a child's episodes share its CHILD; Header and OC2 rows are one child each unless marked "same"
                child = f"C{n:03d}{kind}" + ("" if feed == E else str(i))
                upn += 1
                row = {**BASE[feed], "CHILD": child, **({"UPN": f"A{upn:012d}"} if feed == H else {}), **over}
                if row["CHILD"] == "same":
                    row["CHILD"] = f"C{n:03d}{kind}0"
                values = {k: (v(year) if callable(v) else v) for k, v in row.items()}
                rows.append(values)
                lines[len(rows) + 1] = (f"{case.code}/{kind}", f"903-{case.code}", kind == "bad" and i in case.fails)
    return rows, lines


@pytest.mark.parametrize("year", YEARS, ids=[ssda903.year_label(y) for y in YEARS])
@pytest.mark.parametrize("feed", [H, E, O])
def test_each_rule_catches_its_breach_and_passes_its_near_miss(pipeline, tmp_path: Path, feed: str, year: int) -> None:
    rows, lines = _rows(year, feed)
    path = write_extract(tmp_path / f"{feed}.csv", feed, rows)
    r = pipeline.load(pipeline.land_file(feed, path, period=(dt.date(year, 4, 1), dt.date(year + 1, 3, 31))))
    assert pipeline.con.execute(
        "select collection_year from audit.loads where load_id = ?", [r.load_id]
    ).fetchone() == (year,)
    found: dict[int, set[str]] = {}
    for line, rule_id in pipeline.con.execute(
        "select line, rule_id from quarantine.row_problems where load_id = ? and rule_id like '903-%'", [r.load_id]
    ).fetchall():
        found.setdefault(line, set()).add(rule_id)
    wrong = []
    for line, (case, rule_id, must_fail) in lines.items():
        got = found.get(line, set())
        if case.endswith("/good") and got:
            wrong.append(f"near miss {case} (line {line}) broke {sorted(got)}")
        if must_fail and rule_id not in got:
            wrong.append(f"breach {case} (line {line}) not caught: got {sorted(got)}")
    assert not wrong, "\n".join(wrong)


def test_every_implemented_rule_has_cases() -> None:
    from tests.expectations.test_ssda903_cross import CASES as CROSS  # across feeds and years: tested there

    tested = {c.code for c in CASES} | {c.code for c in CROSS}
    assert set(ssda903.checks()) == tested
