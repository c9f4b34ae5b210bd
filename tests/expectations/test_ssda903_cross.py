"""The SSDA903 rules across feeds (Episodes with Header, Episodes with OC2, Header with OC2) and against last
year's return, each with a child that breaks it and a near miss that passes, in every collection year it is in force,
through the real load path: last year's Header and Episodes first, then this year's Header, Episodes, Header again
(its rules read the Episodes) and OC2. Each case is its own child; the other feeds' rows of a case are context.

A rule reading the Header's DOB from the Episodes side sees it to the month (history keeps no more): its breach is a
month away from the limit, and its near miss within the limiting month, where no day of the month breaks it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from expectations import ssda903
from tests.expectations.test_ssda903_rules import EPISODE, HEADER, OC2, born, day, male
from tests.helpers import write_extract

YEARS = ssda903.YEARS
H, E, O = "cic_header", "cic_episodes", "cic_oc2"  # noqa: E741
Rows = list[dict]


@dataclass
class Case:
    code: str
    feed: str  # the feed the rule flags
    bad: dict[str, Rows]  # feed (or "header_last", "episodes_last") -> the child's rows
    good: dict[str, Rows]
    fails: list[int] = field(default_factory=lambda: [0])


def age_at_decom(years: int, month_after: bool) -> Callable[[int], str]:
    """A DOB ``years`` before DECOM (15 May of the year), a month later (breach of "at least") or in the same
    month (near miss at month precision: born on the 1st it is ``years`` by 15 May)."""
    return lambda y: dt.date(y - years, 6 if month_after else 5, 1).strftime("%d/%m/%Y")


def older_at(years: int, month: int) -> Callable[[int], str]:
    return lambda y: dt.date(y - years, month, 1).strftime("%d/%m/%Y")


CLOSED = {"DEC": day(6, 1), "REC": "E8"}
CARRIED = {"DECOM": lambda y: f"15/05/{y - 1}", "RNE": "S"}  # an episode open since last year
OC2_CLA = {E: [CARRIED]}  # looked after continuously for 12 months at 31 March
OC2_NOT = {E: [{"DECOM": day(5, 15)}]}  # started in the year


def ep_age(code: str, over: dict, years: int, young: bool) -> Case:
    """A DOB-to-DECOM age rule: breach a month on the wrong side, near miss in the limiting month."""
    bad = age_at_decom(years, young) if young else older_at(years, 4)
    good = age_at_decom(years, False) if young else older_at(years, 5)
    return Case(code, E, {H: [{"DOB": bad}], E: [over]}, {H: [{"DOB": good}], E: [over]})


def rec_age(code: str, rec: str, years: int, young: bool) -> Case:
    """An age at DEC (1 June) rule."""
    over = {"DEC": day(6, 1), "REC": rec}
    bad = (lambda y: dt.date(y - years, 7, 1).strftime("%d/%m/%Y")) if young else older_at(years, 5)
    good = (lambda y: dt.date(y - years, 6, 1).strftime("%d/%m/%Y")) if young else older_at(years, 6)
    return Case(code, E, {H: [{"DOB": bad}], E: [over]}, {H: [{"DOB": good}], E: [over]})


def temp(place: str, until: Callable[[int], str]) -> Rows:
    """U1, a temporary placement from 15 May ``until``, then back to U1."""
    return [
        {"DECOM": day(4, 10), "DEC": day(5, 15), "REC": "X1"},
        {"DECOM": day(5, 15), "DEC": until, "REC": "X1", "RNE": "P", "PLACE": place, "PLACE_PROVIDER": ""},
        {"DECOM": until, "RNE": "P"},
    ]


BLANK_OC2 = {O: [dict.fromkeys(("SDQ_SCORE", "CONVICTED", "IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT",
                                "SUBSTANCE_MISUSE"), "")], **OC2_NOT}  # fmt: skip
LAST_OPEN = {"DECOM": lambda y: f"15/05/{y - 1}"}
CASES = [
    # Episodes with the Header
    ep_age("352", CLOSED, 18, False),  # closed: open past 18 in C2/U1 would break 359
    ep_age("358", {"LS": "J2", "DEC": day(5, 25), "REC": "E8"}, 10, True),
    ep_age("370", {"PLACE": "P2", "PLACE_PROVIDER": "PR1"}, 16, True),
    ep_age("371", {"PLACE": lambda y: "H5" if y < 2025 else "K3"}, 16, True),
    ep_age("372", {"PLACE": "R5", "PLACE_PROVIDER": "PR3"}, 10, True),
    ep_age("373", {"PLACE": "S1", "PLACE_PROVIDER": "PR3"}, 4, True),
    ep_age("374", {"PLACE": "P3", "PLACE_PROVIDER": "PR3"}, 14, True),
    # 359: past 18 at 31 March (born in February 18 years before: 18 by 31 March whatever the day; 17 at DECOM) with
    # the episode still open, and not LS V2 in PLACE K2.
    *[
        Case("359", E, {H: [{"DOB": born(17, 2)}], E: [bad]}, good)
        for bad, good in [
            ({}, {H: [{"DOB": born(17, 2)}], E: [{"LS": "V2", "PLACE": "K2"}]}),
            # born in March: the child may turn 18 on 31 March itself, which the DfE passes
            ({"LS": "V2"}, {H: [{"DOB": born(17, 3)}], E: [{}]}),
            ({"PLACE": "K2"}, {H: [{"DOB": born(17, 2)}], E: [CLOSED]}),  # ceased: DEC given
        ]
    ],
    Case(
        "359",
        E,
        # 19 at 31 March, open since last year (17 when it began): the DfE's rule has no upper age
        {H: [{"DOB": born(18, 2)}], "episodes_last": [LAST_OPEN], E: [LAST_OPEN]},
        {H: [{"DOB": born(17, 4)}], E: [{}]},  # 17 at 31 March (18 on 1 April)
    ),  # fmt: skip
    Case("302", E, {H: [{"DOB": lambda y: f"01/06/{y}"}], E: [{}]}, {H: [{"DOB": lambda y: f"15/05/{y}"}], E: [{}]}),
    Case(
        "234",
        E,
        {
            H: [{"DOB": lambda y: f"01/07/{y - 10}"}],
            E: [
                {"DEC": day(6, 1), "REC": "X1", "REASON_PLACE_CHANGE": "CUSTOD"},
                {"DECOM": day(6, 1), "RNE": "P", "PLACE": "U3"},
            ],
        },
        {
            H: [{"DOB": lambda y: f"01/06/{y - 10}"}],
            E: [
                {"DEC": day(6, 1), "REC": "X1", "REASON_PLACE_CHANGE": "CUSTOD"},
                {"DECOM": day(6, 1), "RNE": "P", "PLACE": "U3"},
            ],
        },
    ),  # fmt: skip
    Case(
        "386",
        E,
        *[
            {H: [{"DOB": d}], E: [{"PLACE": "A3", "DEC": day(6, 1), "REC": "E11"}]}
            for d in (older_at(18, 5), older_at(18, 6))
        ],
    ),  # fmt: skip
    rec_age("387", "E14", 14, True),
    rec_age("389", "E7", 16, True),
    rec_age("407", "E45", 18, False),
    rec_age("460", "E17", 18, True),
    *[
        Case(code, E, {E: temp(place, bad)}, {E: temp(place, good)}, fails=[1])
        for code, place, bad, good in [
            ("375", "T1", day(6, 27), day(6, 26)),
            ("376", "T3", day(6, 6), day(6, 5)),
            ("379", "T4", day(5, 23), day(5, 22)),
        ]
    ],  # fmt: skip
    Case("INT03", E, {E: [{}]}, {H: [{}], E: [{}]}),
    # The Header with the Episodes
    Case("210", H, {H: [{"UPN": "UN4", "MOTHER": "0"}], E: [{}]}, {H: [{"UPN": "UN4", "MOTHER": "0"}], E: [CLOSED]}),
    Case("393", H, {H: [{"DOB": born(12)}], E: [{}]}, {H: [{"DOB": born(12), "MOTHER": "0"}], E: [{}]}),
    Case("607", H, {H: [{"DOB": born(12)}], E: [CLOSED]}, {H: [{"DOB": born(12), "MOTHER": "0"}], E: [CLOSED]}),
    Case(
        "625",
        H,
        {H: [{"DOB": born(17), "MOTHER": "1", "MC_DOB": day(7, 1)}], E: [CLOSED]},
        {H: [{"DOB": born(17), "MOTHER": "1", "MC_DOB": day(5, 1)}], E: [CLOSED]},
    ),  # fmt: skip
    # OC2 with the Episodes
    Case("185", O, {O: [{}], **OC2_NOT}, {O: [{}], **OC2_CLA}),
    Case("190", O, {O: [{"SDQ_SCORE": ""}], **OC2_NOT}, BLANK_OC2),
    Case(
        "198",
        O,
        {
            O: [
                {
                    "SDQ_SCORE": "",
                    "SDQ_REASON": "SDQ2",
                    **dict.fromkeys(
                        ("CONVICTED", "IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE"), ""
                    ),
                }
            ],
            **OC2_NOT,
        },
        BLANK_OC2,
    ),  # fmt: skip
    Case("186", O, {O: [{"SDQ_SCORE": "", "SDQ_REASON": "SDQ2"}], **OC2_CLA}, {O: [{}], **OC2_CLA}),
    Case("197B", O, {O: [{"SDQ_SCORE": ""}], **OC2_CLA}, {O: [{}], **OC2_CLA}),
    Case(
        "191",
        O,
        {
            O: [
                {
                    "SDQ_SCORE": "",
                    **dict.fromkeys(
                        ("CONVICTED", "IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE"), ""
                    ),
                }
            ],
            **OC2_CLA,
        },
        {O: [{}], **OC2_CLA},
    ),  # fmt: skip
    Case("543", O, {O: [{"CONVICTED": ""}], **OC2_CLA}, {O: [{"DOB": born(9), "CONVICTED": ""}], **OC2_CLA}),
    Case(
        "545",
        O,
        {O: [{"DOB": born(3), "SDQ_SCORE": "", "CONVICTED": ""}], **OC2_CLA},
        {O: [{"DOB": born(3), "SDQ_SCORE": "", "CONVICTED": "", "HEALTH_CHECK": "1"}], **OC2_CLA},
    ),  # fmt: skip
    # OC2 with the Header
    Case("INT05", O, {O: [{}], **OC2_CLA}, {H: [{}], O: [{}], **OC2_CLA}),
    Case(
        "INT14", O, {H: [{"DOB": "01/07/2012"}], O: [{}], **OC2_CLA}, {H: [{"DOB": "30/06/2012"}], O: [{}], **OC2_CLA}
    ),
    # The Header against last year's
    Case("202", H, {"header_last": [{"SEX": "2"}], H: [{"SEX": male}]}, {"header_last": [{"SEX": "2"}], H: [{}]}),
    Case(
        "203", H, {"header_last": [{"DOB": "01/05/2012"}], H: [{}]}, {"header_last": [{"DOB": "30/06/2012"}], H: [{}]}
    ),
    Case("204", H, {"header_last": [{"ETHNIC": "WIRI"}], H: [{}]}, {"header_last": [{}], H: [{}]}),
    Case(
        "207",
        H,
        {
            "header_last": [{"DOB": born(16), "MOTHER": "1", "MC_DOB": "01/01/2020"}],
            H: [{"DOB": born(16), "MOTHER": "0"}],
        },
        {
            "header_last": [{"DOB": born(16), "MOTHER": "1", "MC_DOB": "01/01/2020"}],
            H: [{"DOB": born(16), "MOTHER": "1", "MC_DOB": "01/01/2020"}],
        },
    ),  # fmt: skip
    Case(
        "208",
        H,
        {"header_last": [{"UPN": "A100000000001"}], H: [{"UPN": "A100000000002"}]},
        {"header_last": [{"UPN": "UN3"}], H: [{"UPN": "A100000000003"}]},
    ),  # fmt: skip
    Case(
        "624",
        H,
        {
            "header_last": [{"DOB": born(17), "MOTHER": "1", "MC_DOB": "01/01/2020"}],
            H: [{"DOB": born(17), "MOTHER": "1", "MC_DOB": "01/02/2020"}],
        },
        {
            "header_last": [{"DOB": born(17), "MOTHER": "1", "MC_DOB": "01/01/2020"}],
            H: [{"DOB": born(17), "MOTHER": "1", "MC_DOB": "31/01/2020"}],
        },
    ),  # fmt: skip
    Case(
        "626",
        H,
        {
            "header_last": [{"DOB": born(17), "MOTHER": "0"}],
            H: [{"DOB": born(17), "MOTHER": "1", "MC_DOB": "01/01/2020"}],
        },
        {"header_last": [{"DOB": born(17), "MOTHER": "0"}], H: [{"DOB": born(17), "MOTHER": "1", "MC_DOB": day(5, 1)}]},
    ),  # fmt: skip
    # The Episodes against last year's
    Case(
        "502",
        E,
        {"episodes_last": [LAST_OPEN], E: [{"DECOM": lambda y: f"16/05/{y - 1}"}]},
        {"episodes_last": [LAST_OPEN], E: [LAST_OPEN]},
    ),  # fmt: skip
    *[
        Case(
            code,
            E,
            {"episodes_last": [LAST_OPEN], E: [{**LAST_OPEN, **over}]},
            {"episodes_last": [LAST_OPEN], E: [LAST_OPEN]},
        )
        for code, over in [
            ("503A", {"RNE": "B"}),
            ("503B", {"LS": "C1"}),
            ("503C", {"CIN": "N2"}),
            ("503D", {"PLACE": "U3"}),
            ("503E", {"PLACE_PROVIDER": "PR2"}),
            ("503F", {"URN": "SC123456"}),
        ]
    ],  # fmt: skip
    Case(
        "562",
        E,
        {
            "episodes_last": [{"DECOM": lambda y: f"15/05/{y - 1}", "DEC": lambda y: f"01/06/{y - 1}", "REC": "E8"}],
            E: [{"DECOM": lambda y: f"15/07/{y - 1}"}],
        },
        {
            "episodes_last": [
                {"DECOM": lambda y: f"15/05/{y - 1}", "DEC": lambda y: f"01/06/{y - 1}", "REC": "E8"},
                {"DECOM": lambda y: f"15/07/{y - 1}"},
            ],
            E: [{"DECOM": lambda y: f"15/07/{y - 1}"}],
        },
    ),  # fmt: skip
    Case("NoE", E, {"header_last": [{}], E: [LAST_OPEN]}, {"episodes_last": [LAST_OPEN], E: [LAST_OPEN]}),
    Case(
        "199",
        E,
        {
            "episodes_last": [
                {"DECOM": lambda y: f"15/05/{y - 1}", "PLACE": "A3", "DEC": lambda y: f"01/09/{y - 1}", "REC": "E11"}
            ],
            E: [{}],
        },
        {
            "episodes_last": [{"DECOM": lambda y: f"15/05/{y - 1}", "DEC": lambda y: f"01/09/{y - 1}", "REC": "E8"}],
            E: [{}],
        },
    ),  # fmt: skip
]
BASE = {H: HEADER, E: EPISODE, O: OC2, "header_last": HEADER, "episodes_last": EPISODE}


def _extracts(year: int) -> tuple[dict[str, list[dict[str, str]]], dict[tuple[str, int], tuple[str, bool]]]:
    """The rows of each extract (feed or last year's), and each checked line's (case, must fail)."""
    rows: dict[str, list[dict[str, str]]] = {k: [] for k in BASE}
    lines: dict[tuple[str, int], tuple[str, bool]] = {}
    for n, case in enumerate(c for c in CASES if ssda903.in_force(c.code, year)):
        for kind, feeds in (("bad", case.bad), ("good", case.good)):
            child = f"X{n:03d}{kind}"
            # every child has a Header unless the case is about one missing; the Header of a case on the Episodes
            # side has no rule of its own broken
            feeds = dict(feeds)
            if H not in feeds and case.code not in ("INT03", "INT05"):
                feeds[H] = [{"DOB": feeds[O][0]["DOB"]} if "DOB" in feeds.get(O, [{}])[0] else {}]
            for feed, child_rows in feeds.items():
                for i, over in enumerate(child_rows):
                    row = {**BASE[feed], "CHILD": child, **over}
                    if feed in ("header_last", H) and "UPN" not in over:
                        row["UPN"] = f"A{9 * 10**11 + n * 2 + (kind == 'bad'):012d}"
                    values = {k: (v(year) if callable(v) else v) for k, v in row.items()}
                    if feed == "header_last" and year - 1 < 2024 or (feed == H and year < 2024):
                        values["SEX"] = {"F": "2", "M": "1"}.get(values["SEX"], values["SEX"])
                    elif feed in ("header_last", H):
                        values["SEX"] = {"2": "F", "1": "M"}.get(values["SEX"], values["SEX"])
                    rows[feed].append(values)
                    if feed == case.feed:
                        lines[(feed, len(rows[feed]) + 1)] = (f"{case.code}/{kind}", kind == "bad" and i in case.fails)
    return rows, lines


@pytest.mark.parametrize("year", YEARS, ids=[ssda903.year_label(y) for y in YEARS])
def test_each_cross_feed_and_last_year_rule_catches_its_breach_and_passes_its_near_miss(
    pipeline, tmp_path: Path, year: int
) -> None:
    rows, lines = _extracts(year)

    def load(feed: str, name: str, y: int, data: list[dict[str, str]]) -> int:
        path = write_extract(tmp_path / f"{name}__reset.csv", feed, data)
        r = pipeline.load(pipeline.land_file(feed, path, period=(dt.date(y, 4, 1), dt.date(y + 1, 3, 31))))
        assert r.status == "loaded", r.summary
        return r.load_id

    load(H, "header_last", year - 1, rows["header_last"])
    load(E, "episodes_last", year - 1, rows["episodes_last"])
    load(H, "header_context", year, rows[H])
    ids = {E: load(E, "episodes", year, rows[E])}
    ids[H] = load(H, "header", year, [*rows[H], {**rows[H][0], "CHILD": "EXTRA"}])  # a new snapshot, same year
    ids[O] = load(O, "oc2", year, rows[O])
    wrong = []
    for feed, load_id in ids.items():
        found: dict[int, set[str]] = {}
        for line, rule_id in pipeline.con.execute(
            "select line, rule_id from quarantine.row_problems where load_id = ? and rule_id like '903-%'", [load_id]
        ).fetchall():
            found.setdefault(line, set()).add(rule_id)
        for (f, line), (case, must_fail) in lines.items():
            if f != feed:
                continue
            got = found.get(line, set())
            code = case.split("/")[0]
            if case.endswith("/good") and got:
                wrong.append(f"near miss {case} ({feed} line {line}) broke {sorted(got)}")
            if must_fail and f"903-{code}" not in got:
                wrong.append(f"breach {case} ({feed} line {line}) not caught: got {sorted(got)}")
    assert not wrong, "\n".join(wrong)


def test_every_cross_feed_and_last_year_rule_has_cases() -> None:
    cross = {c.code for c in ssda903.checks().values() if c.needs} | {"375", "376", "379"}
    assert cross == {c.code for c in CASES}


def test_without_the_other_feed_or_last_year_the_rules_are_skipped_and_say_so(pipeline, tmp_path: Path) -> None:
    path = write_extract(tmp_path / "e.csv", E, [{**EPISODE, "CHILD": "C1", "DECOM": "15/05/2023"}])
    r = pipeline.load(pipeline.land_file(E, path, period=(dt.date(2023, 4, 1), dt.date(2024, 3, 31))))
    skipped = dict(pipeline.con.execute(
        "select rule_id, gx_expectation from audit.validation_results where load_id = ? and gx_expectation like "
        "'skipped%'", [r.load_id]).fetchall())  # fmt: skip
    assert "the Header (cic_header) in the warehouse is not there yet" in skipped["903-302"]
    assert "no 2022/23 return of cic_episodes" in skipped["903-502"] or "not there yet" in skipped["903-502"]
