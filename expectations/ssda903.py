"""The DfE's SSDA903 validation rules over the children's social care feeds (``cic_header``, ``cic_episodes``,
``cic_oc2``), by collection year, each under the DfE's own code (``903-148``) so a social care data lead recognises it.

The catalogue (``ssda903_rules.csv``, the DfE's list as published for its validator: code, tables, fields, message,
whether it needs last year's return or a reference list, and the years it is in force) decides which rules apply in
which year. Each rule implemented here is written from its meaning (the catalogue's message and the DfE's guidance)
as one SQL predicate over the checked relation of one extract, like every contract rule:

- within a row: a plain predicate;
- across a child's rows (episode continuity, overlaps, respite, ``X1`` without a continuation): a predicate over
  window functions partitioned by ``CHILD`` and ordered by ``DECOM``, written as ``TRUE QUALIFY <predicate>`` so the
  same text serves as a ``WHERE`` clause of the failing-rows query and of GX's unexpected-rows query.

A rule of a contract that means the same as a DfE rule (the code lists, the date types, the key) is replaced by it,
so a broken row is reported once, under the DfE's code.

Every other catalogue rule is listed with the reason it is not checked (:func:`coverage`); the coverage table in
``docs/contracts/ssda903-coverage.md`` is generated from it (:func:`coverage_markdown`).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
CATALOGUE = HERE / "ssda903_rules.csv"
YEARS = (2022, 2023, 2024, 2025, 2026)  # collection years, named by the year they start (2022 = 2022/23)
FEED_OF_TABLE = {"Header": "cic_header", "Episodes": "cic_episodes", "OC2": "cic_oc2"}
HELD_TABLES = set(FEED_OF_TABLE)
SCOPE_TABLES = {"Header", "Episodes", "OC2", "UASC", "Header_last", "Episodes_last", "UASC_last"}


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


@dataclass(frozen=True)
class CatalogueRule:
    code: str
    tables: tuple[str, ...]
    fields: tuple[str, ...]
    needs_previous_year: str
    needs_reference_list: str
    message: str
    years: tuple[int, ...]


@cache
def catalogue() -> dict[str, CatalogueRule]:
    out = {}
    with open(CATALOGUE, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            out[r["rule_code"]] = CatalogueRule(
                code=r["rule_code"],
                tables=tuple(t for t in r["tables"].split(";") if t),
                fields=tuple(dict.fromkeys(x for x in r["affected_fields"].split(";") if x)),
                needs_previous_year=r["needs_previous_year"].strip(),
                needs_reference_list=r["needs_reference_list"].strip(),
                message=r["message"].strip(),
                years=tuple(y for y in YEARS if r[f"in_{y}_{(y + 1) % 100:02d}"].strip() == "1"),
            )
    return out


# --- SQL helpers over the checked relation ----------------------------------------------------------------------


def _start(year: int) -> str:
    return f"DATE '{year}-04-01'"


def _end(year: int) -> str:
    return f"DATE '{year + 1}-03-31'"


def _age(dob: str, at: str) -> str:
    """Whole years of age on ``at`` of a child born on ``dob`` (both SQL date expressions)."""
    return (
        f"(date_diff('year', {dob}, {at}) - CASE WHEN month({at}) * 100 + day({at}) "
        f"< month({dob}) * 100 + day({dob}) THEN 1 ELSE 0 END)"
    )


def _in(col: str, codes: list[str] | tuple[str, ...]) -> str:
    return f'"{col}" IN ({", ".join(repr(c) for c in codes)})'


def _blank(col: str) -> str:
    return f'"{col}__raw" IS NULL'


def _given(col: str) -> str:
    return f'"{col}__raw" IS NOT NULL'


DOB = '"DOB"'
W = 'PARTITION BY "CHILD__raw" ORDER BY "DECOM" NULLS LAST, _line'  # a child's episodes in order
WC = 'PARTITION BY "CHILD__raw"'


def _prev(col: str) -> str:
    return f'lag("{col}") OVER ({W})'


def _next(col: str) -> str:
    return f'lead("{col}") OVER ({W})'


def _window(predicate: str) -> str:
    """A predicate over window functions, usable where a ``WHERE`` predicate goes."""
    return f"TRUE QUALIFY coalesce({predicate}, false)"


TEMPORARY = ("T0", "T1", "T2", "T3", "T4")
FOSTER = ("U1", "U2", "U3", "U4", "U5", "U6")
ADOPTION = ("A3", "A4", "A5", "A6")
OC2_FLAGS = (
    "CONVICTED",
    "HEALTH_CHECK",
    "IMMUNISATIONS",
    "TEETH_CHECK",
    "HEALTH_ASSESSMENT",
    "SUBSTANCE_MISUSE",
    "INTERVENTION_RECEIVED",
    "INTERVENTION_OFFERED",
)
OC2_CORE = ("IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE")
PLACEMENT = ("PLACE", "PL_POST", "URN", "PLACE_PROVIDER")
UPN_REGEX = "[A-HJ-NP-RT-Z][0-9]{11}[0-9A-Z]|UN[1-5]"


def _other_codes(year: int) -> tuple[str, ...]:
    """The "other placement" codes of the year: Z1 until 2024/25, Z11-Z14 from 2025/26."""
    return ("Z1",) if year < 2025 else ("Z11", "Z12", "Z13", "Z14")


def _codes(name: str, year: int) -> list[str]:
    from expectations.contract import resolve_codes

    return resolve_codes(name, year)


def _male(year: int) -> str:
    return "'1'" if year < 2024 else "'M'"


def _female(year: int) -> str:
    return "'2'" if year < 2024 else "'F'"


def _placement_changed() -> str:
    return "(" + " OR ".join(f'"{c}" IS DISTINCT FROM {_prev(c)}' for c in PLACEMENT) + ")"


def _days_held(year: int) -> str:
    """Days an episode lasted, an open one to the end of the collection year."""
    return f'date_diff(\'day\', "DECOM", coalesce("DEC", {_end(year)}))'


# --- The rules --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One DfE rule as implemented: the feed it reads, the columns it names, its SQL for a year, plain words."""

    code: str
    feed: str
    columns: tuple[str, ...]
    sql: object  # (year) -> str
    message: str
    fix: str
    severity: str = "warning"
    supersedes: tuple[str, ...] = ()  # names of contract rules this replaces (same meaning)
    shows_values: bool = False  # report even minimised columns' values (only where the value is not a real date)
    needs: tuple[str, ...] = ()  # context of another feed or last year's return (:mod:`expectations.ssda903_cross`)

    @property
    def rule_id(self) -> str:
        return f"903-{self.code}"


def _checks() -> list[Check]:
    H, E, O = "cic_header", "cic_episodes", "cic_oc2"  # noqa: E741
    c: list[Check] = []

    def add(code, feed, columns, sql, message, fix, severity="warning", supersedes=(), needs=()):  # noqa: ANN001
        fn = sql if callable(sql) else (lambda _y, s=sql: s)
        c.append(
            Check(
                code,
                feed,
                tuple(columns.split()),
                fn,
                message,
                fix,
                severity,
                tuple(supersedes),
                shows_values=code in ("102", "171"),
                needs=tuple(needs),
            )
        )

    # Header, within a row
    add("101", H, "SEX", lambda y: f'"SEX__raw" NOT IN ({", ".join(repr(s) for s in _codes("ssda903_sex", y))})',
        "SEX is not a sex code of this collection year.",
        "Use 1 or 2 up to 2023/24, M, F or U from 2024/25.", "error", ["SEX.codes"])  # fmt: skip
    add("102", H, "DOB", '"DOB__raw" IS NOT NULL AND "DOB" IS NULL', "DOB is not a real date.",
        "Write DOB as DD/MM/YYYY.", "error", ["DOB.type"])  # fmt: skip
    add("103", H, "ETHNIC", lambda y: f'"ETHNIC__raw" IS NULL OR NOT {_in("ETHNIC", _codes("ssda903_ethnic", y))}',
        "ETHNIC is blank or not one of the DfE's ethnicity codes.",
        "Use one of the 20 SSDA903 ethnicity codes (WBRI ... NOBT, REFU).", "error",
        ["ETHNIC.required", "ETHNIC.codes"])  # fmt: skip
    add("168", H, "UPN", f"\"UPN__raw\" IS NOT NULL AND NOT regexp_full_match(\"UPN__raw\", '{UPN_REGEX}')",
        "UPN is not a valid Unique Pupil Number (13 characters, not starting I, O or S) nor an unknown code UN1-UN5.",
        "Give the child's 13-character UPN, or UN1-UN5 if it is not known.", "error", ["UPN.format"])  # fmt: skip
    add("442", H, "UPN", _blank("UPN"), "UPN is blank.",
        "Give the child's UPN, or UN1-UN5 if it is not known.", "error", ["UPN.required"])  # fmt: skip
    add("171", H, "MC_DOB", '"MC_DOB__raw" IS NOT NULL AND "MC_DOB" IS NULL',
        "MC_DOB (date of birth of the mother's child) is not a real date.", "Write MC_DOB as DD/MM/YYYY.",
        "error", ["MC_DOB.type"])  # fmt: skip
    add("174", H, "SEX MC_DOB", lambda y: f'{_given("MC_DOB")} AND "SEX" = {_male(y)}',
        "A date of birth of the child's own child (MC_DOB) is given but SEX says the child is male.",
        "Check SEX and MC_DOB; leave MC_DOB blank unless the child is a mother.")  # fmt: skip
    add("209", H, "UPN DOB",
        lambda y: f"\"UPN\" = 'UN1' AND \"DOB\" + INTERVAL 4 YEAR <= DATE '{y - 1}-08-31'",
        "The child is of school age but has UPN UN1 (child not yet of school age).",
        "Give the child's UPN, or the UN code that fits (UN2-UN5).")  # fmt: skip
    add("232", H, "SEX", "\"SEX\" = 'U'", "SEX is U (unknown).",
        "Record the child's sex as M or F if it is known.")  # fmt: skip
    add("301", H, "DOB", lambda y: f'"DOB" > {_end(y)}', "DOB is after the end of the collection year.",
        "Check DOB: the child must be born by 31 March of the collection year.")  # fmt: skip
    add("351", H, "DOB", lambda y: f'"DOB" + INTERVAL 25 YEAR < {_start(y)}',
        "The child was over 25 at the start of the collection year.", "Check DOB.")  # fmt: skip
    add("611", H, "MOTHER MC_DOB", "\"MOTHER\" = '1' AND \"MC_DOB__raw\" IS NULL",
        "MOTHER is 1 but the date of birth of the child's child (MC_DOB) is blank.",
        "Give MC_DOB, or set MOTHER to 0 if the child is not a mother.")  # fmt: skip
    add("612", H, "SEX MOTHER MC_DOB",
        lambda y: f"{_given('MC_DOB')} AND coalesce(\"MOTHER\", '0') <> '1' AND \"SEX\" = {_female(y)}",
        "MC_DOB is given but MOTHER does not say the child is a mother.",
        "Set MOTHER to 1, or leave MC_DOB blank.")  # fmt: skip
    add("620", H, "DOB MOTHER", lambda y: f"\"MOTHER\" = '1' AND {_age(DOB, _start(y))} < 11",
        "MOTHER is 1 but the child was under 11 at the start of the year.", "Check MOTHER and DOB.")  # fmt: skip
    add("621", H, "DOB MC_DOB", '"MC_DOB" <= "DOB"',
        "MC_DOB (the mother's child's date of birth) is not after the mother's own DOB.",
        "Check DOB and MC_DOB.")  # fmt: skip
    add("444", H, "UPN", _window("\"UPN__raw\" NOT IN ('UN1', 'UN2', 'UN3', 'UN4', 'UN5') "
                                 'AND count(*) OVER (PARTITION BY "UPN__raw") > 1'),
        "The same UPN is given for more than one child.", "Check each child's UPN.")  # fmt: skip
    add("INT32", H, "CHILD", _window('row_number() OVER (PARTITION BY "CHILD__raw" ORDER BY _line) > 1'),
        "The child (CHILD) is in the Header more than once.", "Send each child once in the Header.", "error",
        ["key.unique"])  # fmt: skip

    # Episodes, within a row
    for code, col, name, _kind, sup in [
        ("141", "DECOM", "the date the episode began (DECOM)", "type", "DECOM.type"),
        ("147", "DEC", "the date the episode ceased (DEC)", "type", "DEC.type"),
    ]:
        add(code, E, col, f'"{col}__raw" IS NOT NULL AND "{col}" IS NULL', f"{name[0].upper()}{name[1:]} is not "
            "a real date.", f"Write {col} as DD/MM/YYYY.", "error", [sup])  # fmt: skip
    for code, col, codes, sup in [
        ("143", "RNE", "ssda903_rne", "RNE.codes"),
        ("144", "LS", "ssda903_ls", "LS.codes"),
        ("145", "CIN", "ssda903_cin", "CIN.codes"),
        ("146", "PLACE", "ssda903_place", "PLACE.codes"),
        ("149", "REC", "ssda903_rec", "REC.codes"),
        ("178", "PLACE_PROVIDER", "ssda903_place_provider", "PLACE_PROVIDER.codes"),
        ("1009", "REASON_PLACE_CHANGE", "ssda903_reason_place_change", "REASON_PLACE_CHANGE.codes"),
    ]:
        add(code, E, col,
            lambda y, col=col, codes=codes: f'"{col}__raw" NOT IN ({", ".join(repr(s) for s in _codes(codes, y))})',
            f"{col} is not a valid code for this collection year.",
            f"Use one of the SSDA903 {col} codes of the collection year (see the contract page).", "error",
            [sup])  # fmt: skip
    add("148", E, "DEC REC", "(\"DEC__raw\" IS NULL) <> (\"REC__raw\" IS NULL)",
        "DEC (date ceased) and REC (reason ceased) must both be given or both be blank.",
        "Give both DEC and REC for an episode that ended; leave both blank while it is open.", "error",
        ["closed_episode_has_rec", "open_episode_has_no_rec"])  # fmt: skip
    add("356", E, "DECOM DEC", '"DEC" < "DECOM"', "The episode ceased (DEC) before it began (DECOM).",
        "Check DECOM and DEC; an episode cannot end before it starts.", "error", ["decom_before_dec"])  # fmt: skip
    add("213", E, "PLACE PLACE_PROVIDER",
        lambda y: f"{_given('PLACE_PROVIDER')} AND {_in('PLACE', TEMPORARY + _other_codes(y))}",
        "PLACE_PROVIDER is given for a temporary or 'other' placement, which takes none.",
        "Leave PLACE_PROVIDER blank for placements T0-T4 and Z codes.")  # fmt: skip
    add("214", E, "LS PL_POST URN", f"{_in('LS', ['V3', 'V4'])} AND ({_given('PL_POST')} OR {_given('URN')})",
        "Placement postcode or URN is given for a short break (LS V3/V4), which takes neither.",
        "Leave PL_POST and URN blank for short-break episodes.")  # fmt: skip
    add("217", E, "PLACE DECOM RNE",
        f"{_in('PLACE', ['A3', 'A5'])} AND \"DECOM\" >= DATE '2015-04-01' AND \"RNE\" NOT IN ('S', 'T', 'U')",
        "A child placed for adoption with current foster carers (A3/A5) has a reason for new episode other than "
        "S, T or U.", "Check RNE: with the same carers it is S, T or U.")  # fmt: skip
    add("217t", E, "PLACE DECOM", "\"PLACE\" = 'P2' AND \"DECOM\" >= DATE '2023-10-28'",
        "PLACE P2 (independent living) is not a valid placement for episodes from 28 October 2023.",
        "Use the placement type that applies now (e.g. H5 or K3).")  # fmt: skip
    add("222", E, "URN PLACE",
        lambda y: f"{_given('URN')} AND \"URN__raw\" <> 'XXXXXXX' AND "
        f"{_in('PLACE', ('H5', 'P1', 'P2', 'P3', 'R5') + TEMPORARY + _other_codes(y))}",
        "An Ofsted URN is given for a placement type that has none.",
        "Leave URN blank for placements H5, P1-P3, R5, T0-T4 and Z codes.")  # fmt: skip
    add("226", E, "REASON_PLACE_CHANGE PLACE", f"{_given('REASON_PLACE_CHANGE')} AND {_in('PLACE', TEMPORARY)}",
        "A reason for placement change is given for a temporary placement (T0-T4).",
        "Leave REASON_PLACE_CHANGE blank for temporary placements.")  # fmt: skip
    add("233", E, "REASON_PLACE_CHANGE DEC", f"{_given('REASON_PLACE_CHANGE')} AND {_blank('DEC')}",
        "A reason for placement change is given but the episode has not ceased.",
        "Give REASON_PLACE_CHANGE only when the episode ends.")  # fmt: skip
    add("353", E, "DECOM", "\"DECOM\" < DATE '1991-10-14'", "The episode began before 14 October 1991.",
        "Check DECOM.")  # fmt: skip
    add("354", E, "DECOM", lambda y: f'"DECOM" > {_end(y)}',
        "The episode began after the end of the collection year.", "Check DECOM.")  # fmt: skip
    add("385", E, "DEC", lambda y: f'"DEC" > {_end(y)}', "The episode ceased after the end of the collection year.",
        "Check DEC; an episode still open at 31 March has DEC blank.")  # fmt: skip
    add("355", E, "DECOM DEC", '"DEC" = "DECOM"', "The episode began and ceased on the same day.",
        "Check DECOM and DEC: an episode lasts at least a day.")  # fmt: skip
    for code, ls, days, what in [
        ("361", "L1", 3, "Police protection (L1) lasted longer than 72 hours."),
        ("362", "L2", 21, "An emergency protection order (L2) lasted longer than 21 days."),
        ("363", "L3", 7, "A child assessment order (L3) lasted longer than 7 days."),
        ("364", "J2", 21, "A PACE transfer to local authority accommodation (J2) lasted longer than 21 days."),
        ("365", "V3", 17, "A short-term respite placement (V3) lasted longer than 17 days."),
    ]:
        add(code, E, "LS DECOM DEC", lambda y, ls=ls, days=days: f"\"LS\" = '{ls}' AND {_days_held(y)} > {days}",
            what, "Check DECOM, DEC and LS.")  # fmt: skip
    add("366", E, "LS RNE", "\"LS\" = 'V3' AND \"RNE__raw\" IS DISTINCT FROM 'S'",
        "A short-term respite episode (V3) does not start a new period of care (RNE is not S): a child cannot "
        "change placement during a respite break.", "Each respite break is one episode with RNE S.")  # fmt: skip
    add("378", E, "PLACE LS", "\"PLACE\" = 'P1' AND \"LS\" = 'V2'",
        "A child placed with parents (P1) is accommodated under a single period of section 20 (V2).",
        "Check PLACE and LS.")  # fmt: skip
    add("380", E, "PLACE RNE", f"\"RNE\" = 'S' AND {_in('PLACE', TEMPORARY)}",
        "A period of care starts (RNE S) with a temporary placement (T0-T4).", "Check PLACE and RNE.")  # fmt: skip
    add("381", E, "PLACE REC", f"{_given('REC')} AND \"REC\" <> 'X1' AND {_in('PLACE', TEMPORARY)}",
        "A period of care ends with a temporary placement (T0-T4).", "Check PLACE and REC.")  # fmt: skip
    add("382", E, "LS PLACE", f"{_in('LS', ['V3', 'V4'])} AND {_in('PLACE', TEMPORARY)}",
        "A child in respite care (LS V3/V4) is in a temporary placement (T0-T4).", "Check LS and PLACE.")  # fmt: skip
    add("384", E, "PLACE LS", f"{_in('LS', ['V3', 'V4'])} AND {_in('PLACE', ['U1', 'U4'])}",
        "A child in respite care (LS V3/V4) is in a long-term foster placement (U1/U4).",
        "Check LS and PLACE.")  # fmt: skip
    add("392d", E, "HOME_POST PL_POST PLACE",
        "replace(upper(\"HOME_POST__raw\"), ' ', '') = replace(upper(\"PL_POST__raw\"), ' ', '') "
        "AND \"PLACE\" <> 'P1'",
        "The home and placement postcodes are the same, but the child is not placed with parents (P1).",
        "Check HOME_POST and PL_POST.")  # fmt: skip
    add("398", E, "LS HOME_POST PL_POST", f"{_in('LS', ['V3', 'V4'])} AND ({_given('HOME_POST')} OR "
        f"{_given('PL_POST')})", "Postcodes are given for a short break (LS V3/V4), which takes none.",
        "Leave HOME_POST and PL_POST blank for short-break episodes.")  # fmt: skip
    add("408", E, "PLACE LS", f"{_in('PLACE', ['A5', 'A6'])} AND \"LS\" NOT IN ('D1', 'E1')",
        "The child is placed for adoption with a placement order (A5/A6) but LS is not a placement order "
        "(E1) or freeing order (D1).", "Check PLACE and LS.")  # fmt: skip
    add("445", E, "LS DECOM", "\"LS\" = 'D1' AND \"DECOM\" > DATE '2005-12-30'",
        "LS D1 (freeing order) is not valid for an episode starting after 30 December 2005.",
        "Use E1 (placement order).")  # fmt: skip
    add("446", E, "LS DECOM", "\"LS\" = 'E1' AND \"DECOM\" < DATE '2005-12-30'",
        "LS E1 (placement order) is not valid for an episode starting before 30 December 2005.",
        "Check LS and DECOM.")  # fmt: skip
    add("451", E, "DEC REC LS", f"\"LS\" = 'D1' AND {_blank('DEC')}",
        "The child is still freed for adoption (open D1 episode); freeing orders ended on 30 December 2005.",
        "Check LS.")  # fmt: skip
    add("516", E, "REC PLACE", f"{_in('REC', ['E45', 'E46'])} AND \"PLACE\" NOT IN {FOSTER}",
        "REC is E45/E46 (special guardianship by former foster carers) but the placement is not foster care "
        "(U1-U6).", "Check REC and PLACE.")  # fmt: skip
    add("526", E, "PLACE PLACE_PROVIDER",
        lambda y: f"{_blank('PLACE_PROVIDER')} AND \"PLACE\" NOT IN {TEMPORARY + _other_codes(y)}",
        "PLACE_PROVIDER is blank.", "Give the placement provider (PR0-PR5).")  # fmt: skip
    for code, pr, places, neg in [
        ("527", "PR1", ("P1", "R2", "R5"), False),
        ("528", "PR2", ("P1", "R2", "R5"), False),
        ("529", "PR3", ("P1",) + ADOPTION + ("K1", "K2") + FOSTER, False),
        ("530", "PR4", ("P1",), False),
        ("531", "PR5", ("P1",), False),
        ("550", "PR0", ("P1",), True),
    ]:
        cond = f'"PLACE" {"NOT " if neg else ""}IN {places if len(places) > 1 else f"({places[0]!r})"}'
        add(code, E, "PLACE PLACE_PROVIDER", f"\"PLACE_PROVIDER\" = '{pr}' AND {cond}",
            f"Placement provider {pr} cannot go with this placement type (PLACE).",
            "Check PLACE and PLACE_PROVIDER.")  # fmt: skip

    for code, place, days, what in [
        ("375", "T1", 42, "A temporary placement for hospitalisation (T1) lasted longer than six weeks."),
        ("376", "T3", 21, "A temporary placement for a foster carer's holiday (T3) lasted longer than three weeks."),
        ("379", "T4", 7, "A temporary placement for another reason (T4) lasted longer than seven days."),
    ]:
        add(code, E, "PLACE DECOM DEC",
            lambda y, place=place, days=days: f"\"PLACE\" = '{place}' AND {_days_held(y)} > {days}", what,
            "Check DECOM, DEC and PLACE.")  # fmt: skip

    # Episodes, across a child's rows
    add("142", E, "DEC REC", _window(f'{_blank("DEC")} AND {_next("DECOM")} IS NOT NULL'),
        "A later episode has started but this one has not ended (DEC blank).",
        "Give DEC and REC for this episode.")  # fmt: skip
    add("225", E, "REASON_PLACE_CHANGE", _window(
        f"\"REC\" = 'X1' AND {_blank('REASON_PLACE_CHANGE')} AND \"PLACE\" NOT IN {TEMPORARY} "
        f"AND {_next('RNE')} IN ('P', 'B', 'T', 'U') AND {_next('PLACE')} NOT IN {TEMPORARY}"),
        "The placement changed at the end of this episode but REASON_PLACE_CHANGE is blank.",
        "Give the reason for the placement change.")  # fmt: skip
    add("336", E, "PLACE", _window(f"{_in('PLACE', ['A4', 'A6'])} AND {_prev('PLACE')} NOT IN "
                                   f"{FOSTER + ADOPTION}"),
        "The child is placed for adoption but the episode before is not a foster placement.",
        "Check PLACE of this episode and the one before.")  # fmt: skip
    add("357", E, "RNE", lambda y: _window(
        f"row_number() OVER ({W}) = 1 AND \"DECOM\" >= {_start(y)} AND \"RNE__raw\" IS DISTINCT FROM 'S'"),
        "The child's first episode does not start a period of care (RNE is not S).",
        "Add the episode before this one if one was left out, otherwise set RNE to S.")  # fmt: skip
    add("367", E, "LS DECOM DEC", lambda y: _window(
        f"\"LS\" = 'V3' AND sum(CASE WHEN \"LS\" = 'V3' THEN date_diff('day', greatest(\"DECOM\", {_start(y)}), "
        f"least(coalesce(\"DEC\", {_end(y)}), {_end(y)})) END) OVER ({WC}) > 75"),
        "The child had more than 75 days of respite care (V3) in the year.", "Check the respite episodes.")  # fmt: skip
    add("377", E, "PLACE", lambda y: _window(
        f"\"PLACE\" = 'T3' AND count(CASE WHEN \"PLACE\" = 'T3' AND \"DECOM\" >= {_start(y)} THEN 1 END) "
        f"OVER ({WC}) > 2"),
        "More than two temporary placements for a foster carer's holiday (T3) in the year.",
        "Check the T3 episodes.")  # fmt: skip
    add("383", E, "PLACE RNE PL_POST", _window(
        f"{_in('PLACE', TEMPORARY)} AND {_prev('DECOM')} IS NOT NULL AND {_next('DECOM')} IS NOT NULL AND "
        f"({_prev('PLACE')} IS DISTINCT FROM {_next('PLACE')} OR {_prev('PL_POST')} IS DISTINCT FROM "
        f"{_next('PL_POST')})"),
        "After a temporary placement the child did not return to the placement before it.",
        "Check PLACE and PL_POST of the episodes around the temporary one.")  # fmt: skip
    add("388", E, "REC", _window(f"\"REC\" = 'X1' AND {_next('DECOM')} IS DISTINCT FROM \"DEC\""),
        "REC is X1 (a new episode begins the same day) but no episode starts on the day this one ceased.",
        "Add the continuing episode, or give the real reason the episode ceased.")  # fmt: skip
    add("390", E, "PLACE REC", _window(
        f"{_in('REC', ['E11', 'E12'])} AND NOT bool_or({_in('PLACE', ADOPTION)}) OVER ({W} ROWS BETWEEN "
        "UNBOUNDED PRECEDING AND CURRENT ROW)"),
        "REC says the child was adopted but no episode shows the child placed for adoption (A3-A6).",
        "Check REC and the placements before it.")  # fmt: skip
    add("426", E, "LS", _window(
        f"{_in('LS', ['V3', 'V4'])} AND bool_or(\"LS\" = 'V3') OVER ({WC}) AND bool_or(\"LS\" = 'V4') OVER ({WC})"),
        "The child has respite episodes under both V3 and V4 in the year.", "Use one of V3 or V4.")  # fmt: skip
    add("431", E, "RNE DECOM", _window(f"\"RNE\" = 'S' AND {_prev('DEC')} = \"DECOM\""),
        "RNE is S (started to be looked after) but the previous episode ceased the same day.",
        "Use the RNE for a continuing episode (L, P, T, U or B).")  # fmt: skip
    add("432", E, "RNE", _window(f"{_prev('REC')} IS NOT NULL AND {_prev('REC')} <> 'X1' AND "
                                 "\"RNE__raw\" IS DISTINCT FROM 'S'"),
        "The child ceased to be looked after at the end of the previous episode but RNE is not S.",
        "Set RNE to S, or correct REC of the previous episode to X1.")  # fmt: skip
    add("433", E, "RNE DECOM", _window(f"{_in('RNE', ['L', 'P', 'T', 'U', 'B'])} AND {_prev('DEC')} <> \"DECOM\""),
        "RNE says this episode continues the last one, but it does not start on the day the last one ceased.",
        "Check DECOM, the previous DEC, and RNE.")  # fmt: skip
    add("434", E, "RNE LS PLACE PL_POST URN PLACE_PROVIDER", _window(
        f"\"RNE\" = 'L' AND {_prev('DECOM')} IS NOT NULL AND (\"LS\" IS NOT DISTINCT FROM {_prev('LS')} "
        f"OR {_placement_changed()})"),
        "RNE is L (legal status changed, placement did not) but the episodes do not show that.",
        "Check RNE against LS and the placement of this and the previous episode.")  # fmt: skip
    add("435", E, "RNE LS PLACE PL_POST URN PLACE_PROVIDER", _window(
        f"{_in('RNE', ['P', 'T'])} AND {_prev('DECOM')} IS NOT NULL AND (\"LS\" IS DISTINCT FROM {_prev('LS')} "
        f"OR NOT {_placement_changed()})"),
        "RNE is P or T (placement changed, legal status did not) but the episodes do not show that.",
        "Check RNE against LS and the placement of this and the previous episode.")  # fmt: skip
    add("436", E, "RNE LS PLACE PL_POST URN PLACE_PROVIDER", _window(
        f"{_in('RNE', ['B', 'U'])} AND {_prev('DECOM')} IS NOT NULL AND (\"LS\" IS NOT DISTINCT FROM {_prev('LS')} "
        f"OR NOT {_placement_changed()})"),
        "RNE is B or U (placement and legal status changed) but the episodes do not show that.",
        "Check RNE against LS and the placement of this and the previous episode.")  # fmt: skip
    add("437", E, "REC", _window(f"{_in('REC', ['E2', 'E15'])} AND {_next('DECOM')} IS NOT NULL"),
        "REC says the child died or is aged 18 or over, but there are later episodes.",
        "Check REC and the later episodes.")  # fmt: skip
    add("501", E, "DECOM DEC", _window(f"\"DECOM\" < {_prev('DEC')}"),
        "This episode started before the previous one ended (episodes overlap).",
        "Check DECOM of this episode and DEC of the previous one.")  # fmt: skip
    add("504", E, "CIN", _window(
        f"\"CIN\" IS DISTINCT FROM last_value(CASE WHEN \"RNE\" = 'S' THEN \"CIN\" END IGNORE NULLS) OVER ({W} "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AND last_value(CASE WHEN \"RNE\" = 'S' THEN \"CIN\" "
        f"END IGNORE NULLS) OVER ({W} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) IS NOT NULL"),
        "CIN (category of need) differs from the one at the start of this period of care.",
        "Keep the CIN recorded when the period of care started.")  # fmt: skip

    # OC2, within a row
    add("158", O, "INTERVENTION_RECEIVED INTERVENTION_OFFERED",
        f"\"INTERVENTION_RECEIVED\" = '1' AND {_given('INTERVENTION_OFFERED')}",
        "INTERVENTION_RECEIVED is 1, so INTERVENTION_OFFERED should be blank.",
        "Leave INTERVENTION_OFFERED blank when an intervention was received.")  # fmt: skip
    add("159", O, "SUBSTANCE_MISUSE INTERVENTION_RECEIVED INTERVENTION_OFFERED",
        f"\"SUBSTANCE_MISUSE\" = '1' AND \"INTERVENTION_RECEIVED\" = '0' AND {_blank('INTERVENTION_OFFERED')}",
        "No intervention was received for substance misuse, so INTERVENTION_OFFERED must be given.",
        "Give INTERVENTION_OFFERED (0 or 1).")  # fmt: skip
    add("180", O, "SDQ_SCORE", f"{_given('SDQ_SCORE')} AND (\"SDQ_SCORE\" IS NULL OR \"SDQ_SCORE\" NOT BETWEEN 0 "
        "AND 40)", "SDQ_SCORE is not a whole number from 0 to 40.", "Give the SDQ score, 0 to 40.", "error",
        ["SDQ_SCORE.type", "SDQ_SCORE.range"])  # fmt: skip
    add("181", O, " ".join(OC2_FLAGS),
        " OR ".join(f"({_given(f)} AND \"{f}__raw\" NOT IN ('0', '1'))" for f in OC2_FLAGS),
        "An OC2 item (CONVICTED, HEALTH_CHECK, ...) is not 0 or 1.", "Use 0 or 1, or leave it blank.", "error",
        [f"{f}.codes" for f in OC2_FLAGS])  # fmt: skip
    add("182", O, " ".join(OC2_CORE + ("CONVICTED", "HEALTH_CHECK", "INTERVENTION_RECEIVED",
                                        "INTERVENTION_OFFERED")),
        f"({' OR '.join(_blank(f) for f in OC2_CORE)}) AND ({' OR '.join(_given(f) for f in OC2_FLAGS)})",
        "Some OC2 items are given but immunisations, teeth check, health assessment or substance misuse is "
        "blank.", "Complete all four, or leave every OC2 item blank.")  # fmt: skip
    add("188", O, "SDQ_SCORE SDQ_REASON", lambda y: f"{_age(DOB, _end(y))} < 4 AND ({_given('SDQ_SCORE')} "
        f"OR {_given('SDQ_REASON')})", "The child is under 4 at the end of the year but an SDQ score or reason "
        "is given.", "Leave SDQ_SCORE and SDQ_REASON blank for a child under 4.")  # fmt: skip
    add("189", O, "DOB SDQ_SCORE SDQ_REASON", lambda y: f"{_age(DOB, _start(y))} >= 17 AND "
        f"({_given('SDQ_SCORE')} OR {_given('SDQ_REASON')})", "The child is 17 or over at the start of the year "
        "but an SDQ score or reason is given.", "Leave SDQ_SCORE and SDQ_REASON blank.")  # fmt: skip
    add("192", O, "SUBSTANCE_MISUSE INTERVENTION_RECEIVED",
        f"\"SUBSTANCE_MISUSE\" = '1' AND {_blank('INTERVENTION_RECEIVED')}",
        "A substance misuse problem is recorded but INTERVENTION_RECEIVED is blank.",
        "Give INTERVENTION_RECEIVED (0 or 1).")  # fmt: skip
    add("193", O, "SUBSTANCE_MISUSE INTERVENTION_RECEIVED INTERVENTION_OFFERED",
        f"coalesce(\"SUBSTANCE_MISUSE\", '0') <> '1' AND ({_given('INTERVENTION_RECEIVED')} OR "
        f"{_given('INTERVENTION_OFFERED')})", "No substance misuse problem is recorded but an intervention item "
        "is given.", "Leave INTERVENTION_RECEIVED and INTERVENTION_OFFERED blank.")  # fmt: skip
    add("196", O, "SDQ_REASON", "\"SDQ_REASON__raw\" NOT IN ('SDQ1', 'SDQ2', 'SDQ3', 'SDQ4', 'SDQ5')",
        "SDQ_REASON is not a valid code.", "Use SDQ1-SDQ5.", "error", ["SDQ_REASON.codes"])  # fmt: skip
    add("197a", O, "SDQ_SCORE SDQ_REASON", f"{_given('SDQ_SCORE')} AND {_given('SDQ_REASON')}",
        "Both an SDQ score and a reason for no score are given.", "Leave SDQ_REASON blank when there is a "
        "score.")  # fmt: skip
    add("157", O, "SDQ_REASON DOB", lambda y: f"\"SDQ_REASON\" = 'SDQ1' AND {_age(DOB, _start(y))} >= 4 AND "
        f"{_age(DOB, _end(y))} <= 16", "SDQ_REASON is SDQ1 (child under 4 or over 16) but the child is "
        "of SDQ age.", "Give the SDQ score or the reason that applies.")  # fmt: skip
    add("542", O, "CONVICTED", lambda y: f"{_age(DOB, _end(y))} < 10 AND {_given('CONVICTED')}",
        "The child is under 10 at 31 March but CONVICTED is given.",
        "Leave CONVICTED blank for a child under 10.")  # fmt: skip
    add("544", O, "CONVICTED " + " ".join(OC2_CORE),
        f"{_given('CONVICTED')} AND ({' OR '.join(_blank(f) for f in OC2_CORE)})",
        "CONVICTED is given but immunisations, teeth check, health assessment or substance misuse is blank.",
        "Complete all four.")  # fmt: skip
    add("546", O, "DOB HEALTH_CHECK", lambda y: f"{_age(DOB, _end(y))} >= 5 AND {_given('HEALTH_CHECK')}",
        "The child is 5 or over at 31 March but HEALTH_CHECK (under-5s only) is given.",
        "Leave HEALTH_CHECK blank for a child aged 5 or over.")  # fmt: skip
    add("547", O, "HEALTH_CHECK " + " ".join(OC2_CORE),
        f"{_given('HEALTH_CHECK')} AND ({' OR '.join(_blank(f) for f in OC2_CORE)})",
        "HEALTH_CHECK is given but immunisations, teeth check, health assessment or substance misuse is blank.",
        "Complete all four.")  # fmt: skip
    add("INT33", O, "CHILD", _window('row_number() OVER (PARTITION BY "CHILD__raw" ORDER BY _line) > 1'),
        "The child (CHILD) is in OC2 more than once.", "Send each child once in OC2.", "error",
        ["key.unique"])  # fmt: skip

    # Across feeds, and against last year's return
    from expectations import ssda903_cross

    ssda903_cross.rules(add)
    return c


@cache
def checks() -> dict[str, Check]:
    return {c.code: c for c in _checks()}


def in_force(code: str, year: int) -> bool:
    return year in catalogue()[code].years


def year_for(collection_year: int | None) -> int:
    """The catalogue year whose rules apply: the collection year, clamped to the years the catalogue covers."""
    if collection_year is None:
        return max(YEARS)
    return min(max(collection_year, min(YEARS)), max(YEARS))


def checks_for(feed: str, collection_year: int | None) -> list[Check]:
    year = year_for(collection_year)
    return [c for c in checks().values() if c.feed == feed and in_force(c.code, year)]


def needs_of(feed: str, collection_year: int | None) -> set[str]:
    """The contexts (another feed, last year's return) the feed's rules in force read."""
    return {n for c in checks_for(feed, collection_year) for n in c.needs}


def superseded(feed: str, collection_year: int | None) -> set[str]:
    """Names of ``feed``'s contract rules replaced by DfE rules (whether or not those are in force this year: a
    contract rule that means a DfE rule is the DfE's to decide)."""
    return {s for c in checks().values() if c.feed == feed for s in c.supersedes}


# --- Coverage ---------------------------------------------------------------------------------------------------

NOT_HELD_FIELDS = {
    "PL_DISTANCE": "the placement distance is derived by the DfE from postcodes; our feeds do not carry it",
    "PL_LA": "the local authority of placement is derived by the DfE from the placement postcode; not in our feeds",
    "PL_LOCATION": "the placement location (in or out of area) is derived by the DfE; not in our feeds",
    "UASC": "the UASC status (Header UASC flag and the UASC table's DUC) is not in the cic_header feed",
    "DUC": "the UASC status (Header UASC flag and the UASC table's DUC) is not in the cic_header feed",
    "UASC_STATUS": "the UASC status (Header UASC flag and the UASC table's DUC) is not in the cic_header feed",
}
REFERENCE_LISTS = {
    "provider_info": "Ofsted's provider list (URN, type, postcode, dates)",
    "PL_LA": "the postcode-to-local-authority lookup",
    "localAuthority": "the local authority code lookup",
    "PL_LOCATION": "the postcode-to-local-authority lookup",
    "merge_postcodes": "the postcode directory",
    "PL_DISTANCE": "the postcode directory (for distances)",
}
# Rules whose catalogue entry names no tables: the tables they read, from the fields they name.
TABLES_BY_FIELDS = {
    "232": ("Header",),
    "233": ("Episodes",),
    "234": ("Episodes", "Header"),
    "444": ("Header",),
    "231": ("Header", "UASC"),
    "241": ("Episodes",),
    "242": ("Episodes",),
    "243": ("Episodes",),
    "454": ("Episodes",),
}


def tables_of(rule: CatalogueRule) -> tuple[str, ...]:
    if rule.tables:
        return rule.tables
    if rule.code in TABLES_BY_FIELDS:
        return TABLES_BY_FIELDS[rule.code]
    fields = set(rule.fields)
    if fields & {"IN_TOUCH"}:
        return ("OC3",)
    if any(f.startswith("DOLO") for f in fields):
        return ("DoLo",)
    if any(f.startswith("SW_") for f in fields):
        return ("SWEpisodes",)
    return ()


def status(code: str, year: int) -> tuple[str, str]:
    """(state, why) of one catalogue rule in one year: ``implemented``, ``not in force``, ``out of scope``,
    ``not applicable`` or ``not yet implemented``."""
    rule = catalogue()[code]
    if year not in rule.years:
        return "not in force", ""
    tables = set(tables_of(rule))
    if not tables <= SCOPE_TABLES:
        other = ", ".join(sorted(tables - SCOPE_TABLES))
        return "out of scope", f"reads {other}, a 903 table the partnership does not receive"
    if code in checks():
        c = checks()[code]
        how = f"`{c.rule_id}` on `{c.feed}`"
        if c.needs:
            reads = " and ".join({"header": "the Header", "episodes": "the Episodes", "header_last": "last year's "
                                  "Header", "episodes_last": "last year's Episodes"}[n] for n in c.needs)  # fmt: skip
            how += f", reading {reads} held in the warehouse (skipped, and recorded as skipped, when not there)"
            if c.feed == "cic_episodes" and "header" in c.needs and code != "INT03" or code in ("203", "624", "INT14"):
                how += "; DOB/MC_DOB compared at month precision (history keeps the month): a row fails only when "
                how += "it fails for every day of that month"
        if code == "371":
            how += "; supported accommodation is H5 until 2024/25, K3 from 2025/26"
        if code in ("375", "376", "379"):
            how += "; reads the Episodes only (the Header adds nothing to the duration)"
        return "implemented", how
    if rule.code in ("241", "242", "243"):  # the catalogue names no list, but each checks a URN against Ofsted's
        return "not applicable", "needs a reference list we do not hold: " + REFERENCE_LISTS["provider_info"]
    if rule.needs_reference_list:
        lists = sorted({REFERENCE_LISTS.get(x, x) for x in rule.needs_reference_list.replace(";", " ").split()})
        return "not applicable", f"needs a reference list we do not hold: {'; '.join(lists)}"
    missing = [NOT_HELD_FIELDS[f] for f in rule.fields if f in NOT_HELD_FIELDS]
    if missing or tables & {"UASC", "UASC_last"}:
        return "not applicable", missing[0] if missing else NOT_HELD_FIELDS["UASC"]
    if rule.needs_previous_year or tables & {"Header_last", "Episodes_last"}:
        return "not yet implemented", "needs last year's return from history (previous-year rules not built yet)"
    if len(tables & HELD_TABLES) > 1:
        return "not yet implemented", (
            "reads two feeds (" + ", ".join(sorted(tables & HELD_TABLES)) + "); cross-feed rules are not built yet"
        )
    return "not yet implemented", "not built yet"


def coverage() -> list[tuple[str, dict[int, tuple[str, str]]]]:
    return [(code, {y: status(code, y) for y in YEARS}) for code in catalogue()]


def coverage_markdown() -> str:
    rows = coverage()
    counts: dict[int, dict[str, int]] = {y: {} for y in YEARS}
    for _, by_year in rows:
        for y, (state, _) in by_year.items():
            counts[y][state] = counts[y].get(state, 0) + 1
    states = ["implemented", "not applicable", "not yet implemented", "out of scope", "not in force"]
    lines = [
        "# SSDA903 validation rules: coverage by collection year",
        "",
        "*Generated from `expectations/ssda903_rules.csv` (the DfE's rule catalogue) and `expectations/ssda903.py`; "
        "do not edit by hand (`make docs`).*",
        "",
        "Each rule of the DfE's catalogue, for each collection year (April to March) it covers: **implemented** "
        "(checked on load under the DfE's code, e.g. `903-148`), **not applicable** (it needs data we do not hold, "
        "and why), **not yet implemented** (and why), **out of scope** (it reads a 903 table the partnership does "
        "not receive: Reviews, OC3, AD1, PlacedAdoption, PrevPerm, Missing, SWEpisodes, DoLo), or not in force "
        "that year (-).",
        "",
        "The collection year an extract is checked against is its declared period's, else the 903 year containing "
        "the latest date in the extract itself, never the day it arrived. A rule that means the same as a contract "
        "rule replaces it; `error` rules quarantine the row, the others report it and the row loads.",
        "",
        "## Totals",
        "",
        "| state | " + " | ".join(year_label(y) for y in YEARS) + " |",
        "|---|" + "---|" * len(YEARS),
    ]
    for s in states:
        lines.append(f"| {s} | " + " | ".join(str(counts[y].get(s, 0)) for y in YEARS) + " |")
    lines += [
        "",
        "## Rules",
        "",
        "| rule | tables | fields | message | " + " | ".join(year_label(y) for y in YEARS) + " | how / why |",
        "|---|---|---|---|" + "---|" * len(YEARS) + "---|",
    ]
    short = {"implemented": "yes", "not applicable": "n/a", "not yet implemented": "not yet", "out of scope": "out",
             "not in force": "-"}  # fmt: skip
    for code, by_year in rows:
        rule = catalogue()[code]
        whys = sorted({why for state, why in by_year.values() if why})
        severity = f" ({checks()[code].severity})" if code in checks() else ""
        lines.append(
            f"| {code} | {', '.join(tables_of(rule)) or '-'} | {', '.join(rule.fields)} | "
            f"{rule.message.replace('|', '/')} | "
            + " | ".join(short[by_year[y][0]] for y in YEARS)
            + f" | {'; '.join(whys)}{severity} |"
        )
    lines.append("")
    return "\n".join(lines)


def write_coverage(out: Path) -> Path:
    path = out / "ssda903-coverage.md"
    path.write_text(coverage_markdown())
    return path


def latest_date_year(latest: dt.date | None) -> int | None:
    """The 903 collection year (named by its start) whose 31 March the extract's latest date reaches."""
    if latest is None:
        return None
    return latest.year if latest.month >= 4 else latest.year - 1
