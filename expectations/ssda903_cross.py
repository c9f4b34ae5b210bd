"""The SSDA903 rules that read a second feed (Episodes with Header, Episodes with OC2, Header with OC2) or last
year's return (Header_last, Episodes_last), each checked while one feed's extract is validated.

The other feed, and last year's return, are what the warehouse holds: the other feed's current rows in
``history.<feed>``, last year's return as the rows of ``history.<feed>`` current after the last load of the previous
collection year. History keeps CHILD only as a pseudonym, so before validation (:func:`prepare`) the staged CHILD
is pseudonymised once and the other feed's rows of the extract's children are copied, with the staged CHILD beside
them, into small context tables next to the staged extract (where GX's cursors read it). A rule's failing rows are
rows of the extract being loaded; the other feed's rows are context. Where a context is not there (the other feed
was never loaded, no return of the previous year is held, no collection year is known), the rules needing it are
skipped and the validation records that they were and why. The context tables are built by
:func:`warehouse.ssda903_context.prepare` (storage reads history); the rules here only read them.

History keeps a date of birth to the month only (``DOB_month``). A rule comparing an Episodes date with the
Header's DOB is therefore checked at month precision and never fails falsely: a row fails only when it fails for
every day of the birth month (the earliest possible day for "too young", the last for "too old"). A rule that reads
the Header while a Header is validated, or OC2's own DOB, is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

# Context tables: the columns copied from history (as ``o_<name>``), per context.
CONTEXT_FEED = {"header": "cic_header", "episodes": "cic_episodes", "header_last": "cic_header",
                "episodes_last": "cic_episodes"}  # fmt: skip
CONTEXT_COLUMNS = {
    "cic_header": ("DOB_month", "SEX", "ETHNIC", "UPN", "MOTHER", "MC_DOB_month"),
    "cic_episodes": ("DECOM", "DEC", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "REC", "URN"),
}
CONTEXT_WHAT = {
    "header": "the Header (cic_header) in the warehouse",
    "episodes": "the Episodes (cic_episodes) in the warehouse",
    "header_last": "last year's Header return in the warehouse",
    "episodes_last": "last year's Episodes return in the warehouse",
}
UNKNOWN_UPN = ("UN1", "UN2", "UN3", "UN4", "UN5")


@dataclass
class Context:
    """The context tables of one validation (need -> table) and the rules skipped for want of one."""

    tables: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # need -> why it is not there
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (rule id, severity, why)
    scratch: list[str] = field(default_factory=list)  # every table made, dropped after validation

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        for t in self.scratch:
            con.execute(f"drop table if exists {t}")


# --- SQL over the checked relation and a context table ------------------------------------------------------------


def _one(t: dict[str, str], need: str, col: str) -> str:
    """The child's value of ``col`` in a one-row-per-child context (the Header)."""
    return f'(SELECT o."o_{col}" FROM {t[need]} o WHERE o.o_child = "CHILD")'


def _exists(t: dict[str, str], need: str, pred: str = "TRUE") -> str:
    """Some row of the child's in the context satisfies ``pred`` (over ``o."o_<col>"``)."""
    return f'EXISTS (SELECT 1 FROM {t[need]} o WHERE o.o_child = "CHILD" AND ({pred}))'


def _agg(t: dict[str, str], need: str, expr: str) -> str:
    return f'(SELECT {expr} FROM {t[need]} o WHERE o.o_child = "CHILD")'


def _under(t: dict[str, str], years: int, at: str) -> str:
    """The child (DOB from the Header's month) is under ``years`` on ``at`` whatever day of the month it was born."""
    return f"({_one(t, 'header', 'DOB_month')} + INTERVAL {years} YEAR > {at})"


def _over(t: dict[str, str], years: int, at: str) -> str:
    """The child is ``years`` or over on ``at`` whatever day of the birth month it was born."""
    return f"(last_day({_one(t, 'header', 'DOB_month')}) + INTERVAL {years} YEAR <= {at})"


def _age_exact(dob: str, at: str) -> str:
    return (
        f"(date_diff('year', {dob}, {at}) - CASE WHEN month({at}) * 100 + day({at}) "
        f"< month({dob}) * 100 + day({dob}) THEN 1 ELSE 0 END)"
    )


def _start(y: int) -> str:
    return f"DATE '{y}-04-01'"


def _end(y: int) -> str:
    return f"DATE '{y + 1}-03-31'"


def _cla12(t: dict[str, str], y: int) -> str:
    """Looked after continuously for 12 months at 31 March, from the child's episodes (NULL with none): in care
    during the year, and no episode starting a period of care after 1 April, ending one in the year, or a short
    break (V3/V4) in the year."""
    s = _start(y)
    return _agg(
        t,
        "episodes",
        f"""bool_or(o."o_DEC" IS NULL OR o."o_DEC" >= {s}) AND NOT coalesce(bool_or(
            (o."o_RNE" = 'S' AND o."o_DECOM" > {s}) OR (o."o_REC" <> 'X1' AND o."o_DEC" >= {s})
            OR (o."o_LS" IN ('V3', 'V4') AND (o."o_DEC" IS NULL OR o."o_DEC" >= {s}))), false)""",
    )


def _given(col: str) -> str:
    return f'"{col}__raw" IS NOT NULL'


def _blank(col: str) -> str:
    return f'"{col}__raw" IS NULL'


def _female(y: int) -> str:
    return "'2'" if y < 2024 else "'F'"


def _sex(expr: str) -> str:
    """A sex code in the 2024/25 codes (1 and 2 were M and F before)."""
    return f"CASE {expr} WHEN '1' THEN 'M' WHEN '2' THEN 'F' ELSE {expr} END"


W = 'PARTITION BY "CHILD__raw" ORDER BY "DECOM" NULLS LAST, _line'
OC2_FLAGS = ("CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE",
             "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED")  # fmt: skip
OC2_CORE = ("IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE")
MONTH = "checked at month precision (history keeps DOB to the month): a row fails only when it would for every day"


def rules(add) -> None:  # noqa: ANN001, C901
    """Add the cross-feed and previous-year rules with ``add(code, feed, columns, sql(year, tables), message, fix,
    needs=...)``."""
    H, E, O = "cic_header", "cic_episodes", "cic_oc2"  # noqa: E741

    # Episodes with the Header: ages from the Header's DOB (to the month), on the Episodes row.
    def age_rule(code, cols, cond, years, at, young, message, fix):  # noqa: ANN001
        def sql(y, t, cond=cond):  # noqa: ANN001
            c = cond(y) if callable(cond) else cond
            return f"{c} AND {(_under if young else _over)(t, years, at)}"

        add(code, E, cols, sql, message + " (DOB to the month)", fix, needs=("header",))

    age_rule("234", "REASON_PLACE_CHANGE DEC", "\"REASON_PLACE_CHANGE\" = 'CUSTOD'", 10, '"DEC"', True,
             "The placement changed because the child was taken into custody, but the child was under 10.",
             "Check REASON_PLACE_CHANGE and the child's DOB.")  # fmt: skip
    age_rule("352", "DECOM RNE", "\"RNE\" = 'S'", 18, '"DECOM"', False,
             "The child started to be looked after (RNE S) aged 18 or over.", "Check DECOM and the DOB.")  # fmt: skip
    age_rule("358", "DECOM LS", "\"LS\" IN ('J1', 'J2', 'J3')", 10, '"DECOM"', True,
             "A child under 10 has a legal status (J1-J3) for children on remand or charged.",
             "Check LS and the child's DOB.")  # fmt: skip
    for code, place, years, what in [
        ("370", "P2", 16, "in independent living (P2) should be at least 16"),
        ("371", None, 16, "in supported accommodation (H5; K3 from 2025/26) should be at least 16"),
        ("372", "R5", 10, "in youth custody or prison (R5) should be at least 10"),
        ("373", "S1", 4, "placed in a school (S1) should be at least 4"),
        ("374", "P3", 14, "in residential employment (P3) should be at least 14"),
    ]:
        where = (lambda y: f"\"PLACE\" = '{'H5' if y < 2025 else 'K3'}'") if place is None else f"\"PLACE\" = '{place}'"
        age_rule(code, "DECOM PLACE", where, years, '"DECOM"', True,
                 f"A child {what} when the placement began.", "Check PLACE, DECOM and the DOB.")  # fmt: skip
    for code, recs, years, young, what in [
        ("386", ("E11", "E12"), 18, False, "REC says the child was adopted but the child had reached 18"),
        ("387", ("E14",), 14, True, "REC says the child moved to independent living but the child was under 14"),
        ("389", ("E7",), 16, True, "REC says the child transferred to adult social care but was under 16"),
        (
            "407",
            ("E45", "E46", "E47", "E48"),
            18,
            False,
            "REC is a special guardianship order but the child had reached 18",
        ),
        ("460", ("E17",), 18, True, "REC says the child stayed with current carers at 18 but was under 18"),
    ]:
        codes = ", ".join(f"'{r}'" for r in recs)
        age_rule(code, "DEC REC", f'"REC" IN ({codes})', years, '"DEC"', young, f"{what} when the episode ceased.",
                 "Check REC, DEC and the child's DOB.")  # fmt: skip
    # 359 as the DfE's validator reads it: DOB + 18 years before 31 March (strictly: a child turning 18 on 31 March
    # passes), the episode still open, and not LS V2 in PLACE K2; no upper age bound.
    add("359", E, "DEC LS PLACE", lambda y, t: f"{_blank('DEC')} AND NOT (\"LS\" IS NOT DISTINCT FROM 'V2' AND "
        f"\"PLACE\" IS NOT DISTINCT FROM 'K2') AND {_over(t, 18, _end(y) + ' - INTERVAL 1 DAY')}",
        "The child turned 18 before 31 March and is still looked after (the episode has no DEC), so should be "
        "accommodated under a single period of section 20 (LS V2) in a children's home (PLACE K2) (DOB to the "
        "month).", "Check LS and PLACE (V2 and K2 past 18), or give DEC and REC if the episode ended; check the "
        "child's DOB.", needs=("header",))  # fmt: skip
    add("302", E, "DECOM", lambda y, t: f"\"DECOM\" < {_one(t, 'header', 'DOB_month')}",
        "The episode began before the child was born (DOB to the month).", "Check DECOM and the DOB.",
        needs=("header",))  # fmt: skip
    add("INT03", E, "CHILD", lambda y, t: f"NOT {_exists(t, 'header')}",
        "The child (CHILD) has episodes but is not in the Header.", "Send the child's Header row.",
        needs=("header",))  # fmt: skip

    # The Header with the Episodes (exact: the Header's own DOB, the Episodes' dates).
    o_dec, o_decom, o_rec, o_ls = 'o."o_DEC"', 'o."o_DECOM"', 'o."o_REC"', 'o."o_LS"'
    dob = '"DOB"'
    add("210", H, "UPN", lambda y, t: "\"UPN__raw\" = 'UN4' AND " + _exists(
        t, "episodes", f"({o_dec} IS NULL OR {o_dec} > {_end(y)}) AND {o_decom} < {_end(y)} - INTERVAL 7 DAY"),
        "The child has been looked after for more than a week at 31 March but UPN is UN4 (UPN not yet "
        "obtained).", "Give the child's UPN, or the UN code that fits.", needs=("episodes",))  # fmt: skip
    add("393", H, "SEX MOTHER", lambda y, t: f"\"SEX\" = {_female(y)} AND {_blank('MOTHER')} AND "
        f"{_age_exact(dob, _end(y))} >= 11 AND " + _exists(t, "episodes", f"{o_dec} IS NULL AND {o_ls} NOT IN "
                                                            "('V3', 'V4')"),
        "The child is female, 11 or over and looked after at 31 March, but MOTHER is blank.",
        "Give MOTHER (1 if the child is a mother, else 0).", needs=("episodes",))  # fmt: skip
    add("607", H, "SEX MOTHER", lambda y, t: f"\"SEX\" = {_female(y)} AND {_blank('MOTHER')} AND "
        + _exists(t, "episodes", f"{o_rec} <> 'X1' AND {o_dec} BETWEEN {_start(y)} AND {_end(y)} AND "
                  f"{o_ls} NOT IN ('V3', 'V4') AND {_age_exact(dob, o_dec)} >= 11"),
        "The child (female, 11 or over) ceased to be looked after in the year, but MOTHER is blank.",
        "Give MOTHER (1 if the child is a mother, else 0).", needs=("episodes",))  # fmt: skip
    add("625", H, "MC_DOB", lambda y, t: f"\"MC_DOB\" > {_end(y)} OR (NOT {_exists(t, 'episodes', f'{o_dec} IS NULL')} "
        f"AND \"MC_DOB\" > " + _agg(t, "episodes", f"max({o_dec}) FILTER (WHERE {o_rec} <> 'X1')") + ")",
        "The date of birth of the child's first child (MC_DOB) is after 31 March or after the child ceased to be "
        "looked after.", "Check MC_DOB.", needs=("episodes",))  # fmt: skip

    # OC2 with the Episodes: looked after continuously for 12 months at 31 March (exact).
    def oc2(code, cols, when, message, fix, cla=True):  # noqa: ANN001
        add(
            code,
            O,
            cols,
            lambda y, t: f"{_cla12(t, y)} = {str(cla).upper()} AND ({when(y)})",
            message,
            fix,
            needs=("episodes",),
        )

    def sdq_age(y):  # noqa: ANN001
        return f"{_age_exact(dob, _start(y))} >= 4 AND {_age_exact(dob, _end(y))} < 17"

    oc2("185", "SDQ_SCORE", lambda y: _given("SDQ_SCORE"), "The child has not been looked after continuously for 12 "
        "months at 31 March but an SDQ score is given.", "Leave the OC2 items blank, or check the episodes.",
        cla=False)  # fmt: skip
    oc2("198", "SDQ_REASON", lambda y: _given("SDQ_REASON"), "The child has not been looked after continuously for "
        "12 months at 31 March but a reason for no SDQ score is given.", "Leave SDQ_REASON blank, or check the "
        "episodes.", cla=False)  # fmt: skip
    oc2("190", " ".join(OC2_FLAGS), lambda y: " OR ".join(_given(f) for f in OC2_FLAGS), "The child has not been "
        "looked after continuously for 12 months at 31 March but OC2 items are given.", "Leave the OC2 items "
        "blank, or check the episodes.", cla=False)  # fmt: skip
    oc2("186", "SDQ_SCORE", lambda y: f"{sdq_age(y)} AND {_blank('SDQ_SCORE')}", "The child (4 or over at the "
        "start of the year, under 17 at the end) has been looked after for 12 months but has no SDQ score.",
        "Give the SDQ score.")  # fmt: skip
    oc2("197B", "SDQ_SCORE SDQ_REASON", lambda y: f"{sdq_age(y)} AND {_blank('SDQ_SCORE')} AND "
        f"{_blank('SDQ_REASON')}", "The child is of SDQ age and looked after for 12 months but neither an SDQ score "
        "nor a reason for none is given.", "Give the SDQ score or the reason (SDQ1-SDQ5).")  # fmt: skip
    oc2("191", " ".join(OC2_CORE), lambda y: " OR ".join(_blank(f) for f in OC2_CORE), "The child has been looked "
        "after continuously for 12 months but immunisations, teeth check, health assessment or substance misuse "
        "is blank.", "Complete all four.")  # fmt: skip
    oc2("543", "CONVICTED", lambda y: f"{_age_exact(dob, _end(y))} >= 10 AND {_blank('CONVICTED')}",
        "The child is 10 or over at 31 March and looked after for 12 months but CONVICTED is blank.",
        "Give CONVICTED (0 or 1).")  # fmt: skip
    oc2("545", "HEALTH_CHECK", lambda y: f"{_age_exact(dob, _end(y))} < 5 AND {_blank('HEALTH_CHECK')}",
        "The child is under 5 at 31 March and looked after for 12 months but HEALTH_CHECK is blank.",
        "Give HEALTH_CHECK (0 or 1).")  # fmt: skip

    # OC2 with the Header.
    add("INT05", O, "CHILD", lambda y, t: f"NOT {_exists(t, 'header')}", "The child (CHILD) is in OC2 but not in "
        "the Header.", "Send the child's Header row.", needs=("header",))  # fmt: skip
    add("INT14", O, "DOB", lambda y, t: f"date_trunc('month', \"DOB\") <> {_one(t, 'header', 'DOB_month')}",
        "The DOB in OC2 differs from the DOB in the Header (compared to the month).", "Give the same DOB in both.",
        needs=("header",))  # fmt: skip

    # The Header against last year's Header.
    def last(col: str) -> str:
        return _one({"h": ""} | {"header_last": "{header_last}"}, "header_last", col)

    def hl(code, cols, cond, message, fix):  # noqa: ANN001
        add(
            code,
            H,
            cols,
            lambda y, t: cond(y).replace("{header_last}", t["header_last"]),
            message,
            fix,
            needs=("header_last",),
        )

    hl("202", "SEX", lambda y: f"{_sex(chr(34) + 'SEX' + chr(34))} <> {_sex(last('SEX'))}",
       "SEX differs from the sex recorded for this child last year.", "Check SEX.")  # fmt: skip
    hl("203", "DOB", lambda y: f"date_trunc('month', \"DOB\") <> {last('DOB_month')}",
       "DOB differs from the date of birth recorded for this child last year (compared to the month).",
       "Check DOB.")  # fmt: skip
    hl("204", "ETHNIC", lambda y: f"\"ETHNIC\" <> {last('ETHNIC')}",
       "ETHNIC differs from the ethnicity recorded for this child last year.", "Check ETHNIC.")  # fmt: skip
    hl("207", "MOTHER", lambda y: f"\"MOTHER\" = '0' AND {last('MOTHER')} = '1'",
       "MOTHER is 0 but the child was recorded as a mother last year.", "Check MOTHER.")  # fmt: skip
    hl("208", "UPN", lambda y: f"{_given('UPN')} AND NOT {last('upn_unknown')} AND "
       f"{last('upn_now')} <> {last('UPN')}",
       "UPN differs from the UPN recorded for this child last year.", "Check UPN.")  # fmt: skip
    hl("624", "MC_DOB", lambda y: f"date_trunc('month', \"MC_DOB\") <> {last('MC_DOB_month')}",
       "MC_DOB differs from the date of birth of the first child recorded last year (compared to the month).",
       "Check MC_DOB.")  # fmt: skip
    hl("626", "MOTHER MC_DOB", lambda y: f"\"MOTHER\" = '1' AND \"MC_DOB\" < {_start(y)} AND {last('MOTHER')} = '0'",
       "MOTHER is 1 with a first child born before this year, but last year the child was recorded as not a "
       "mother.", "Check MOTHER and MC_DOB.")  # fmt: skip

    # The Episodes against last year's Episodes.
    def el(code, cols, cond, message, fix, window=False):  # noqa: ANN001
        def sql(y, t):  # noqa: ANN001
            c = cond(y, t)
            return f"TRUE QUALIFY coalesce({c}, false)" if window else c

        add(code, E, cols, sql, message, fix, needs=("episodes_last",))

    def open_last(t, col):  # noqa: ANN001
        return _agg(t, "episodes_last", f'max(o."o_{col}") FILTER (WHERE o."o_DEC" IS NULL)')

    first = f"row_number() OVER ({W}) = 1"
    el("502", "DECOM", lambda y, t: f"{first} AND {open_last(t, 'DECOM')} <> \"DECOM\"",
       "Last year's return ended with an open episode, but it did not start on the date this year's first episode "
       "starts.", "Check DECOM of the first episode against last year's open episode.", window=True)  # fmt: skip
    for code, col in [("503A", "RNE"), ("503B", "LS"), ("503C", "CIN"), ("503D", "PLACE"),
                      ("503E", "PLACE_PROVIDER"), ("503F", "URN")]:  # fmt: skip
        el(code, f"{col} DECOM", lambda y, t, col=col: f"{first} AND {open_last(t, 'DECOM')} = \"DECOM\" AND "
           f"{open_last(t, col)} IS DISTINCT FROM \"{col}\"",
           f"{col} of the first episode differs from last year's open episode (the same episode).",
           f"Check {col}: the episode open at 31 March last year carries on with the same {col}.",
           window=True)  # fmt: skip
    el("562", "DECOM", lambda y, t: f"\"DECOM\" < {_start(y)} AND {_exists(t, 'episodes_last')} AND NOT "
       f"{_exists(t, 'episodes_last', 'o.' + chr(34) + 'o_DECOM' + chr(34) + ' = ' + chr(34) + 'DECOM' + chr(34))}",
       "The episode began before this collection year but is not in last year's return.",
       "Check DECOM, or send last year's episode.")  # fmt: skip
    el("NoE", "DECOM", lambda y, t: f"\"DECOM\" < {_start(y)} AND NOT {_exists(t, 'episodes_last')}",
       "The episode began before this collection year but the child has no episodes in last year's return.",
       "Check DECOM, or last year's return.")  # fmt: skip
    el("199", "CHILD", lambda y, t: _exists(t, "episodes_last", "o.\"o_REC\" IN ('E11', 'E12') AND "
       "o.\"o_DEC\" <= \"DECOM\""),
       "Last year's return shows the child was adopted, yet this year the child has an episode after it.",
       "Check the child's identifier (CHILD).")  # fmt: skip
