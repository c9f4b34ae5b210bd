"""A synthetic youth justice partnership: every feed of every partner, for one local authority, consistent across
agencies (the same child carries the identifiers each agency holds) and deterministic for a seed.

Shapes follow the published figures in ../shared/domain.md: most first offences end in a community resolution or
diversion (no FTE), a minority in a youth caution or a charge; about a third of children with a proven outcome
reoffend within a year; custody is rare; a minority of YOS children are in care. Nothing here is real data.

``defects`` injects named, realistic faults; ``DIR/defects.json`` records for each the feed, the rule that must
catch it and the lines it was put on, so tests can check that every defect is caught by the rule named for it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from expectations.contract import all_contracts

DERBY = "E06000015"
NEIGHBOURS = {"E10000007": 0.02, "E06000018": 0.01}  # Derbyshire, Nottingham
POPULATION_10_17 = {DERBY: 27_600}

ETHNICITY = [
    ("WBRI", 62),
    ("WOTH", 5),
    ("WROM", 1),
    ("MWBC", 5),
    ("MOTH", 2),
    ("APKN", 9),
    ("AIND", 3),
    ("ABAN", 1),
    ("AOTH", 2),
    ("BCRB", 3),
    ("BAFR", 3),
    ("CHNE", 1),
    ("OARB", 1),
    ("OOTH", 1),
    ("NOBT", 1),
]
ETHNIC_903 = {"OARB": "OOTH"}
CATEGORIES = [
    ("violence_against_person", 34, (2, 6)),
    ("theft", 14, (1, 4)),
    ("criminal_damage", 10, (1, 4)),
    ("drugs", 8, (2, 6)),
    ("public_order", 8, (1, 4)),
    ("possession_of_weapons", 7, (3, 6)),
    ("robbery", 5, (5, 7)),
    ("burglary", 5, (3, 6)),
    ("sexual", 2, (5, 8)),
    ("vehicle", 3, (1, 4)),
    ("fraud", 1, (1, 4)),
    ("other", 3, (1, 3)),
]
OFFENCE_CODES = {c: f"{100 + i:03d}/{(i * 7) % 90 + 1:02d}" for i, (c, _, _) in enumerate(CATEGORIES)}
DEFECTS = {
    "bad_codes": ("police_outcomes", "police_outcomes.sex.codes"),
    "impossible_dates": ("police_outcomes", "police_outcomes.offence_before_outcome"),
    "invalid_dates": ("court_disposals", "court_disposals.hearing_date.type"),
    "duplicates": ("police_outcomes", "police_outcomes.key.unique"),
    "missing_column": ("custody_transfers", "header.missing_columns"),
    "wrong_encoding": ("cic_oc2", "file.encoding"),
    "names_in_id_column": ("police_outcomes", "police_outcomes.force_person_id.format"),
    "name_column": ("yos_victims", "header.personal_data_columns"),
    "malformed_lines": ("yos_interventions", "line.malformed"),
    "broken_funnel": ("yos_interventions", "yos_interventions.mh_need_offered_attending"),
    "old_sex_codes": ("cic_header", "903-101"),
}
FILE_DEFECTS = ("missing_column", "wrong_encoding", "name_column", "malformed_lines")
LS_NEXT = {"V2": "C1", "C1": "C2"}  # a period of care's legal status moves on: accommodated, interim, full order
PLACEMENT_903 = ("PLACE", "PLACE_PROVIDER", "PL_POST", "URN")  # what makes a placement (903-434, 903-435)
FOSTER_903 = ("U1", "U2", "U3", "U4", "U5", "U6")
SYNTHETIC_NAMES = ["Jayden Example", "Kacey Placeholder", "Morgan Fictional"]


# National values of the YJB's ten KPIs (measure codes of kpi.measures), roughly where the first published
# figures sit; the synthetic comparators drift from these by half a point a year.
COMPARATOR_KPIS = {
    "kpi1_accommodation": 90.0,
    "kpi2_ete": 72.0,
    "kpi3_send": 55.0,
    "kpi4_mental_health_offered": 80.0,
    "kpi4_mental_health_attending": 70.0,
    "kpi5_substance_misuse_offered": 78.0,
    "kpi5_substance_misuse_attending": 60.0,
    "kpi6_oocd_completion": 84.0,
    "kpi7_board_attendance": 78.0,
    "kpi8_wider_services": 45.0,
    "kpi9_serious_violence": 7.5,
    "kpi10_victims_rj": 30.0,
}


def _pick(rng: random.Random, weighted: list) -> object:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _d(day: dt.date) -> str:
    return day.isoformat()


def _postcode(rng: random.Random) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"DE{rng.randint(1, 24)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def _d903(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _b(flag: bool | None) -> str:
    return "" if flag is None else ("true" if flag else "false")


def _age(dob: dt.date, on: dt.date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _birthday(dob: dt.date, years: int) -> dt.date:
    """The day a child born on ``dob`` turns ``years`` (1 March for 29 February in a common year)."""
    try:
        return dob.replace(year=dob.year + years)
    except ValueError:
        return dt.date(dob.year + years, 3, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    y = day.year + m // 12
    return dt.date(y, m % 12 + 1, min(day.day, 28))


@dataclass
class Child:
    n: int
    sex: str
    dob: dt.date
    ethnicity: str
    la: str
    force_person_id: str
    pnc_id: str | None = None
    yos_child_id: str | None = None
    la_child_id: str | None = None
    upn: str | None = None
    in_care: bool = False
    proven: list[dt.date] = field(default_factory=list)


@dataclass
class Partnership:
    rows: dict[str, list[dict[str, str]]]
    period: dict[str, tuple[dt.date, dt.date]]


class Generator:
    def __init__(self, seed: int, children: int, years: int, end_year: int, la_code: str) -> None:
        self.rng = random.Random(seed)
        self.rng903 = random.Random(f"ssda903-{seed}")  # the 903 feeds' own choices (see care)
        self.n_children = children
        self.start = dt.date(end_year - years + 1, 1, 1)
        # Offending careers start two years before the reporting window, so that its first year is not inflated
        # by children whose earlier cautions the extracts would not hold; the extracts carry that history too.
        self.history_start = dt.date(end_year - years - 1, 1, 1)
        self.end = dt.date(end_year, 12, 31)
        self.la = la_code
        self.rows: dict[str, list[dict[str, str]]] = {f: [] for f in all_contracts()}
        self.seq: dict[str, int] = {}

    def next_id(self, prefix: str) -> str:
        self.seq[prefix] = self.seq.get(prefix, 0) + 1
        return f"{prefix}{self.seq[prefix]:06d}"

    # --- people -----------------------------------------------------------------------------------------------
    def child(self, n: int) -> Child:
        rng = self.rng
        la = rng.choices([self.la, *NEIGHBOURS], weights=[1 - sum(NEIGHBOURS.values()), *NEIGHBOURS.values()])[0]
        # Old enough to be 10-17 at some point in the window.
        dob = dt.date(
            rng.randint(self.history_start.year - 16, self.end.year - 11),
            rng.randint(1, 12),
            rng.randint(1, 28),
        )
        return Child(
            n=n,
            sex="M" if rng.random() < 0.8 else "F",
            dob=dob,
            ethnicity=_pick(rng, ETHNICITY),
            la=la,
            force_person_id=f"DP{rng.randint(10**6, 10**7 - 1)}",
            upn=f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}{rng.randint(10**10, 10**11 - 1)}{rng.randint(0, 9)}",
        )

    def pnc(self, child: Child, on: dt.date) -> str:
        if child.pnc_id is None:
            child.pnc_id = f"{on.year % 100:02d}/{self.rng.randint(10**6, 10**7 - 1):07d}{self.rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}"
        return child.pnc_id

    def yos_id(self, child: Child) -> str:
        if child.yos_child_id is None:
            child.yos_child_id = self.next_id("YJ")
        return child.yos_child_id

    # --- the partnership ----------------------------------------------------------------------------------------
    def run(self) -> Partnership:
        rng = self.rng
        kids = [self.child(i) for i in range(self.n_children)]
        for c in kids:
            c.in_care = rng.random() < 0.09
            if c.in_care:
                c.la_child_id = self.next_id("C")
            if rng.random() < 0.62:  # the rest come to notice without offending (prevention, care)
                self.offending(c)
        for _ in range(self.n_children // 6):  # prevention and sibling work with children who never offend
            c = self.child(-1)
            start = self.random_day_when_10_17(c)
            if start:
                self.intervention(c, rng.choice(["prevention", "prevention", "sibling_prevention"]), start, None, None)
        for _ in range(self.n_children // 3):  # looked-after children with no youth justice contact
            c = self.child(-1)
            c.in_care, c.la_child_id = True, self.next_id("C")
            kids.append(c)
        self.care(kids)
        self.board()
        self.reference()
        return Partnership(self.rows, self.periods())

    def random_day_when_10_17(self, c: Child) -> dt.date | None:
        lo = max(self.history_start, dt.date(c.dob.year + 10, c.dob.month, c.dob.day))
        hi = min(
            self.end - dt.timedelta(days=60),
            dt.date(c.dob.year + 18, c.dob.month, c.dob.day) - dt.timedelta(days=1),
        )
        if lo >= hi:
            return None
        return lo + dt.timedelta(days=self.rng.randint(0, (hi - lo).days))

    def offending(self, c: Child) -> None:
        rng = self.rng
        day = self.random_day_when_10_17(c)
        count = 0
        while day and day <= self.end - dt.timedelta(days=45) and _age(c.dob, day) <= 17:
            self.offence(c, day, count)
            count += 1
            # Fewer than half offend again; those who do tend to offend often, in bursts (England: about a third of
            # children reoffend within a year, with about 3.6 proven reoffences each; domain.md 1.2, and the
            # ReoffFreq comparator below)
            if rng.random() > (0.2 if count == 1 else 0.78):
                break
            day = day + dt.timedelta(days=rng.randint(20, 300) if count == 1 else rng.randint(10, 80))

    def offence(self, c: Child, offence_date: dt.date, nth: int) -> None:
        rng = self.rng
        category, _, (glo, ghi) = CATEGORIES[
            rng.choices(range(len(CATEGORIES)), weights=[w for _, w, _ in CATEGORIES])[0]
        ]
        gravity = rng.randint(glo, ghi)
        weapon = (
            "knife"
            if category == "possession_of_weapons" and rng.random() < 0.6
            else ("knife" if category in ("robbery", "violence_against_person") and rng.random() < 0.05 else "none")
        )
        victim = (
            "none"
            if category in ("drugs", "possession_of_weapons")
            else _pick(
                rng,
                [
                    ("stranger", 30),
                    ("acquaintance", 25),
                    ("child_peer", 20),
                    ("parent_carer", 8),
                    ("family_member", 5),
                    ("business", 12),
                ],
            )
        )
        outcome_date = offence_date + dt.timedelta(days=rng.randint(3, 40))
        if nth == 0:
            ladder = [(8, 34), (22, 18), (23, 3), (2, 14), (1, 9), (16, 12), (10, 10)]
        else:
            ladder = [(8, 10), (22, 8), (2, 30), (1, 42), (16, 6), (10, 4)]
        if gravity >= 6:
            ladder = [(1, 70), (2, 15), (16, 15)]
        outcome = _pick(rng, ladder)
        cgm = {8: 2, 22: 2, 23: 2, 2: rng.choice([3, 3, 3, 4]), 1: 5}.get(outcome)
        pnc = self.pnc(c, outcome_date) if outcome in (1, 2) or (c.pnc_id and rng.random() < 0.9) else c.pnc_id
        outcome_id = self.next_id("PO")
        self.rows["police_outcomes"].append(
            {
                "outcome_id": outcome_id,
                "pnc_id": pnc or "",
                "force_person_id": c.force_person_id,
                "dob": _d(c.dob),
                "sex": c.sex,
                "ethnicity": c.ethnicity,
                "home_la_code": c.la,
                "offence_date": _d(offence_date),
                "offence_code": OFFENCE_CODES[category],
                "offence_category": category,
                "gravity_score": str(gravity),
                "weapon": weapon,
                "victim_relationship": victim,
                "outcome_date": _d(outcome_date),
                "outcome_type": str(outcome),
                "child_gravity_matrix": "" if cgm is None else str(cgm),
            }
        )
        kind = {
            8: "community_resolution",
            22: "outcome_22",
            23: "outcome_22",
            2: "youth_conditional_caution" if cgm == 4 else "youth_caution",
        }.get(outcome)
        if kind:
            if outcome == 2:
                c.proven.append(outcome_date)
            self.intervention(
                c,
                kind,
                outcome_date + dt.timedelta(days=rng.randint(2, 14)),
                outcome_id,
                None,
                victim=victim,
                gravity=gravity,
            )
        elif outcome == 1:
            self.court(c, offence_date, outcome_date, category, gravity, weapon, victim)
        elif rng.random() < 0.3:
            self.intervention(c, "triage", outcome_date + dt.timedelta(days=5), outcome_id, None)

    def court(
        self,
        c: Child,
        offence_date: dt.date,
        charge_date: dt.date,
        category: str,
        gravity: int,
        weapon: str,
        victim: str,
    ) -> None:
        rng = self.rng
        held = rng.random() < 0.25
        if held:
            requested = _pick(rng, [("non_secure", 70), ("secure", 10), ("none", 20)])
            achieved = requested != "none" and rng.random() < 0.4
            self.rows["custody_transfers"].append(
                {
                    "detention_id": self.next_id("CT"),
                    "pnc_id": self.pnc(c, charge_date),
                    "force_person_id": c.force_person_id,
                    "dob": _d(c.dob),
                    "home_la_code": c.la,
                    "charge_datetime": f"{_d(charge_date)}T{rng.randint(14, 23):02d}:{rng.randint(0, 59):02d}:00+00:00",
                    "bail_refused": "true",
                    "accommodation_requested": requested,
                    "transfer_achieved": _b(achieved),
                    "reason_not_transferred": ""
                    if achieved or requested == "none"
                    else _pick(rng, [("no_la_bed", 50), ("la_refused", 15), ("transport", 15), ("other", 20)]),
                }
            )
        hearing = charge_date + dt.timedelta(days=rng.randint(20, 110))
        if hearing > self.end:
            return
        verdict = _pick(rng, [("convicted", 85), ("acquitted", 6), ("dismissed", 4), ("withdrawn", 5)])
        disposal, length = "", ""
        remand = "remand_youth_detention" if held and rng.random() < 0.3 else ("bail" if rng.random() < 0.5 else "none")
        if verdict == "convicted":
            disposal = _pick(
                rng,
                [
                    ("referral_order", 46),
                    ("youth_rehabilitation_order", 22),
                    ("yro_intensive", 3),
                    ("conditional_discharge", 8),
                    ("fine", 5),
                    ("absolute_discharge", 1),
                    ("compensation_order", 2),
                    ("reparation_order", 2),
                    ("detention_training_order", 5 if gravity >= 5 else 1),
                    ("s250_detention", 2 if gravity >= 7 else 0),
                ],
            )
            length = {
                "referral_order": str(rng.choice([3, 6, 9, 12])),
                "youth_rehabilitation_order": str(rng.choice([6, 9, 12, 18])),
                "yro_intensive": str(rng.choice([6, 12])),
                "detention_training_order": str(rng.choice([4, 6, 8, 12, 18, 24])),
                "s250_detention": str(rng.choice([24, 36, 48])),
            }.get(disposal, "")
            c.proven.append(hearing)
        disposal_id = self.next_id("CD")
        self.rows["court_disposals"].append(
            {
                "disposal_id": disposal_id,
                "pnc_id": self.pnc(c, charge_date),
                "dob": _d(c.dob),
                "sex": c.sex,
                "home_la_code": c.la,
                "offence_date": _d(offence_date),
                "hearing_date": _d(hearing),
                "offence_code": OFFENCE_CODES[category],
                "offence_category": category,
                "gravity_score": str(gravity),
                "weapon": weapon,
                "victim_relationship": victim,
                "verdict": verdict,
                "disposal_type": disposal,
                "length_months": length,
                "remand_status": remand,
            }
        )
        if verdict == "convicted" and rng.random() < 0.5:
            # further offences dealt with at the same hearing: each its own sentence row, concurrent (custody counts
            # the hearing once; every offence is a proven (re)offence)
            for _ in range(rng.choice([1, 2, 2])):
                earlier = offence_date - dt.timedelta(days=rng.randint(1, 60))
                if _age(c.dob, earlier) < 10 or earlier < self.history_start:
                    break
                row = dict(self.rows["court_disposals"][-1])
                row.update(disposal_id=self.next_id("CD"), offence_date=_d(earlier))
                self.rows["court_disposals"].append(row)
        if remand == "remand_youth_detention":
            self.intervention(c, "remand", charge_date, None, disposal_id)
        yos_kind = {
            "referral_order": "referral_order",
            "youth_rehabilitation_order": "youth_rehabilitation_order",
            "yro_intensive": "youth_rehabilitation_order",
            "detention_training_order": "detention_training_order",
            "s250_detention": "s250_detention",
        }.get(disposal)
        if yos_kind:
            self.intervention(
                c,
                yos_kind,
                hearing + dt.timedelta(days=rng.randint(1, 10)),
                None,
                disposal_id,
                months=int(length),
                victim=victim,
                gravity=gravity,
            )
            if yos_kind in ("detention_training_order", "s250_detention"):
                release = _add_months(hearing, int(length) // 2)
                if release < self.end:
                    self.intervention(c, "resettlement", release, None, disposal_id, months=int(length) // 2)

    def intervention(
        self,
        c: Child,
        kind: str,
        start: dt.date,
        outcome_id: str | None,
        disposal_id: str | None,
        months: int | None = None,
        victim: str = "none",
        gravity: int = 1,
    ) -> None:
        rng = self.rng
        if start > self.end:
            return
        months = months or {
            "prevention": 4,
            "sibling_prevention": 4,
            "triage": 2,
            "community_resolution": 2,
            "outcome_22": 3,
            "youth_caution": 2,
            "youth_conditional_caution": 4,
            "remand": 2,
        }.get(kind, 6)
        end = start + dt.timedelta(days=int(months * 30.4) + rng.randint(-10, 20))
        end_reason = None
        if end <= self.end:
            end_reason = _pick(
                rng, [("completed", 82), ("breached", 8), ("revoked", 3), ("transferred", 4), ("other", 3)]
            )
        else:
            end = None
        mh_need = rng.random() < 0.35
        mh_offered = mh_need and rng.random() < 0.8
        sm_need = rng.random() < 0.25
        sm_offered = sm_need and rng.random() < 0.75
        offered = rng.choice([0, 10, 15, 25, 25, 25])
        iid = self.next_id("IV")
        self.rows["yos_interventions"].append(
            {
                "intervention_id": iid,
                "yos_child_id": self.yos_id(c),
                "pnc_id": c.pnc_id or "",
                "la_child_id": c.la_child_id or "",
                "dob": _d(c.dob),
                "sex": c.sex,
                "ethnicity": c.ethnicity,
                "home_la_code": c.la,
                "intervention_type": kind,
                "linked_outcome_id": outcome_id or "",
                "linked_disposal_id": disposal_id or "",
                "start_date": _d(start),
                "end_date": _d(end) if end else "",
                "end_reason": end_reason or "",
                "accommodation_suitable_start": _b(rng.random() < 0.9),
                "accommodation_suitable_end": _b(rng.random() < 0.93) if end else "",
                "ete_suitable_start": _b(rng.random() < 0.7),
                "ete_suitable_end": _b(rng.random() < 0.75) if end else "",
                "ete_hours_offered": str(offered),
                "ete_hours_attended": str(rng.randint(0, offered)),
                "send_identified": _b(rng.random() < 0.3),
                "learning_plan": _pick(rng, [("none", 60), ("ehcp", 20), ("idp", 5), ("other", 15)]),
                "mh_need": _b(mh_need),
                "mh_offered": _b(mh_offered),
                "mh_attending": _b(mh_offered and rng.random() < 0.7),
                "sm_need": _b(sm_need),
                "sm_offered": _b(sm_offered),
                "sm_attending": _b(sm_offered and rng.random() < 0.6),
                "early_help": _b(rng.random() < 0.25),
                "child_protection_plan": _b(rng.random() < 0.08),
                "child_in_need": _b(rng.random() < 0.2),
                "looked_after": _b(c.in_care),
                "care_leaver": _b(False),
            }
        )
        if kind in ("prevention", "sibling_prevention", "triage", "remand"):
            return
        for stage, on in (("start", start), ("end", end)):
            if on is None:
                continue
            rosh = _pick(
                rng,
                [("Low", 58), ("Medium", 31), ("High", 10), ("Very High", 1)]
                if gravity < 5
                else [("Low", 30), ("Medium", 45), ("High", 22), ("Very High", 3)],
            )
            self.rows["yos_assessments"].append(
                {
                    "assessment_id": self.next_id("AS"),
                    "yos_child_id": self.yos_id(c),
                    "intervention_id": iid,
                    "assessment_date": _d(on),
                    "stage": stage,
                    "rosh_level": rosh,
                    "safety_wellbeing_level": _pick(rng, [("Low", 40), ("Medium", 40), ("High", 17), ("Very High", 3)]),
                    "likelihood_reoffending": _pick(rng, [("Low", 45), ("Medium", 40), ("High", 15)]),
                    "rosh_plan_in_place": _b(rosh != "Low" and rng.random() < 0.85),
                    "safety_wellbeing_plan_in_place": _b(rng.random() < 0.6),
                }
            )
        if victim not in ("none",):
            consent = rng.random() < 0.6
            offered_rj = consent and rng.random() < 0.75
            self.rows["yos_victims"].append(
                {
                    "victim_record_id": self.next_id("VR"),
                    "intervention_id": iid,
                    "victim_type": "business"
                    if victim == "business"
                    else ("parent_carer" if victim == "parent_carer" else "person"),
                    "consent_to_contact": _b(consent),
                    "contacted_date": _d(start + dt.timedelta(days=rng.randint(3, 20)))
                    if consent and start + dt.timedelta(days=20) <= self.end
                    else "",
                    "rj_offered": _b(offered_rj),
                    "rj_engaged": _b(offered_rj and rng.random() < 0.45),
                    "safety_plan": _b(rng.random() < 0.3),
                }
            )

    def care(self, kids: list[Child]) -> None:
        """The children's social care feeds: the SSDA903 Header, Episodes and OC2 of the collection year the extract
        ends in, and the police call-outs to placements. Clean output breaks none of the DfE's SSDA903 rules
        (expectations/ssda903.py). Every draw of ``self.rng`` is made as it always was, so the feeds generated after
        this one do not move; what the 903 rules need beyond those draws comes from ``self.rng903``. A child who
        turns 18 before the year's 31 March stops being looked after by then (see ``care_ends_by``), so has no
        OC2 row (not looked after for 12 months at 31 March, 903-185, 903-190)."""
        rng = self.rng
        year_start = dt.date(self.end.year, 4, 1) if self.end.month >= 4 else dt.date(self.end.year - 1, 4, 1)
        year_end = dt.date(year_start.year + 1, 3, 31)
        for c in kids:
            if not c.in_care or _age(c.dob, year_start) > 17 or _age(c.dob, year_start) < 0:
                continue
            leave = self.care_ends_by(c, year_end)
            mother, mc_dob = self.motherhood(
                c, c.sex == "F" and rng.choice(["0", "0", "0", "1"]) == "1", year_start, leave
            )
            self.rows["cic_header"].append(
                {
                    "CHILD": c.la_child_id,
                    "SEX": c.sex,
                    "DOB": _d903(c.dob),
                    "ETHNIC": ETHNIC_903.get(c.ethnicity, c.ethnicity),
                    "UPN": c.upn,
                    "MOTHER": mother,
                    "MC_DOB": _d903(mc_dob),
                }
            )
            decom = year_start - dt.timedelta(days=rng.randint(30, 1500))
            if decom < c.dob:
                decom = c.dob + dt.timedelta(days=400)
            episodes = rng.randint(1, 3)
            place = _pick(
                rng,
                [("U1", 20), ("U4", 20), ("U3", 10), ("K2", 15), ("R1", 5), ("P1", 5), ("K3", 8), ("S1", 3)],
            )
            drawn = []
            for e in range(episodes):
                last = e == episodes - 1
                dec = (
                    None
                    if last
                    else min(decom + dt.timedelta(days=rng.randint(60, 300)), self.end - dt.timedelta(days=5))
                )
                ls = "J1" if rng.random() < 0.04 else _pick(rng, [("C2", 55), ("C1", 15), ("V2", 25), ("E1", 5)])
                cin = _pick(rng, [("N1", 60), ("N4", 10), ("N5", 15), ("N6", 5), ("N2", 5), ("N8", 5)])
                provider = _pick(rng, [("PR1", 50), ("PR4", 35), ("PR5", 15)])
                home_post, pl_post = _postcode(rng), _postcode(rng)
                urn = f"SC{rng.randint(100000, 999999)}" if place in ("K2", "K3", "R1") else ""
                drawn.append(
                    {
                        "DECOM": decom,
                        "DEC": dec,
                        "LS": ls,
                        "CIN": cin,
                        "PLACE": place,
                        "PLACE_PROVIDER": provider,
                        "HOME_POST": home_post,
                        "PL_POST": pl_post,
                        "URN": urn,
                    }
                )
                if dec is None:
                    break
                decom = dec
                place = _pick(rng, [("U1", 30), ("U4", 30), ("K2", 25), ("K3", 15)])
            episodes_903 = self.period_of_care(c, drawn, leave)
            self.rows["cic_episodes"].extend(episodes_903)
            if decom <= year_start - dt.timedelta(days=365) or rng.random() < 0.6:
                oc2 = self.oc2(
                    c,
                    year_start,
                    year_end,
                    sdq=rng.randint(5, 30),
                    immunisations=rng.choice("01"),
                    substance_misuse=rng.random() < 0.1,
                )
                if not episodes_903[-1]["DEC"]:  # still looked after (a period that ended in the year has no OC2)
                    self.rows["cic_oc2"].append(oc2)
            for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
                day = self.random_day_when_10_17(c)
                if not day:
                    continue
                outcome = _pick(
                    rng,
                    [
                        ("no_further_action", 45),
                        ("restorative", 25),
                        ("community_resolution", 12),
                        ("outcome_22", 5),
                        ("youth_caution", 4),
                        ("charge", 4),
                        ("arrest_no_further_action", 5),
                    ],
                )
                self.rows["cic_police_incidents"].append(
                    {
                        "incident_id": self.next_id("PI"),
                        "la_child_id": c.la_child_id,
                        "pnc_id": c.pnc_id or "",
                        "incident_date": _d(day),
                        "placement_type": place,
                        "reported_by": _pick(
                            rng,
                            [("placement_staff", 70), ("police_patrol", 15), ("public", 10), ("other", 5)],
                        ),
                        "incident_type": _pick(
                            rng,
                            [
                                ("missing", 40),
                                ("damage", 20),
                                ("assault_staff", 15),
                                ("assault_peer", 10),
                                ("theft", 5),
                                ("public_order", 5),
                                ("other", 5),
                            ],
                        ),
                        "restorative_approach_used": _b(
                            outcome in ("restorative", "community_resolution") or rng.random() < 0.2
                        ),
                        "police_outcome": outcome,
                    }
                )

    def care_ends_by(self, c: Child, year_end: dt.date) -> dt.date | None:
        """The day by which a child who turns 18 before the collection year's 31 March stops being looked after
        (903-359: looked after past 18 only under section 20 in a children's home): the 18th birthday, or, when
        that falls after the extract's last days, a day of the year's last three months before it (the child
        leaves care at 17). None for a child still under 18 at 31 March. See ``leave_care``."""
        b18 = _birthday(c.dob, 18)
        if b18 >= year_end:
            return None
        last = self.end - dt.timedelta(days=5)
        return b18 if b18 <= last else last - dt.timedelta(days=self.rng903.randint(0, 90))

    def motherhood(
        self, c: Child, drawn: bool, year_start: dt.date, leave: dt.date | None = None
    ) -> tuple[str, dt.date | None]:
        """MOTHER and MC_DOB of a girl in care: a few older girls are mothers, and a mother's child has a date of
        birth (903-611), after she turned 14 (903-620, 903-621) and no later than the extract's end, nor than
        the day she leaves care (903-625)."""
        if not drawn or self.rng903.random() >= 0.25:
            return "0", None
        lo = max(c.dob + dt.timedelta(days=14 * 365 + 4), year_start - dt.timedelta(days=3 * 365))
        hi = min(self.end - dt.timedelta(days=5), leave or self.end)
        if _age(c.dob, year_start) < 14 or lo > hi:
            return "0", None
        return "1", lo + dt.timedelta(days=self.rng903.randint(0, (hi - lo).days))

    def period_of_care(self, c: Child, drawn: list[dict], leave: dt.date | None = None) -> list[dict[str, str]]:
        """A child's episodes of one period of care, from the placements drawn for it: it starts (RNE S) under one
        category of need (903-504); each later episode starts the day the last ceased (X1) because the placement
        changed with the legal status the same (P, 903-435), the legal status changed in the same placement (L,
        903-434), or both (B, 903-436). No one under 16 is in supported accommodation (K3, 903-371), nor under 10
        on remand (J1, 903-358). The child's home postcode stays; a child placed with parents (P1) lives at
        home, under a care order (903-378), with provider PR0 (903-527-531, 903-550); no other placement is at
        the home postcode (903-392d). An episode the extract's end cut to a day is still open (903-355). With
        ``leave`` (``care_ends_by``) the period ends that day: the episodes drawn from it on are dropped and the
        one running then ends as ``leave_care`` says."""
        r9 = self.rng903
        home = drawn[0]["HOME_POST"]
        rows: list[dict[str, str]] = []
        for ep in drawn:
            if leave is not None and ep["DECOM"] >= leave:  # never the first: it began before the year
                break
            dec = ep["DEC"] if ep["DEC"] is not None and ep["DEC"] > ep["DECOM"] else None
            ending = leave is not None and (dec is None or dec >= leave)
            if ending:
                dec = leave
            age = _age(c.dob, ep["DECOM"])
            if ep["PLACE"] == "K3" and age < 16:  # supported accommodation is for 16 and over (903-371)
                ep = {**ep, "PLACE": "K2"}
            if ep["LS"] == "J1" and age < 10:  # remand is for 10 and over (903-358)
                ep = {**ep, "LS": "V2"}
            placement = self.placement(ep, home)
            prev = rows[-1] if rows else None
            if prev is None:
                ls = ep["LS"] if ep["PLACE"] != "P1" or ep["LS"] in ("C1", "C2") else "C2"
                rne = "S"
            else:
                later = LS_NEXT.get(prev["LS"])
                change = r9.random()
                if later and dec is not None and change < 0.15:
                    rne, ls, placement = "L", later, {k: prev[k] for k in PLACEMENT_903}
                elif later and change < 0.25:
                    rne, ls = "B", later
                else:
                    rne, ls = "P", prev["LS"]
                while rne != "L" and all(placement[k] == prev[k] for k in PLACEMENT_903):
                    placement["PL_POST"] = _postcode(r9)
                    if placement["PL_POST"] == home:
                        placement["PL_POST"] = prev["PL_POST"]
                prev["REASON_PLACE_CHANGE"] = "" if rne == "L" else "CARPL"
            rows.append(
                {
                    "CHILD": c.la_child_id,
                    "DECOM": _d903(ep["DECOM"]),
                    "RNE": rne,
                    "LS": ls,
                    "CIN": rows[0]["CIN"] if rows else ep["CIN"],
                    "PLACE": placement["PLACE"],
                    "PLACE_PROVIDER": placement["PLACE_PROVIDER"],
                    "DEC": _d903(dec),
                    "REC": "" if dec is None else "X1",
                    "REASON_PLACE_CHANGE": "",
                    "HOME_POST": home,
                    "PL_POST": placement["PL_POST"],
                    "URN": placement["URN"],
                }
            )
            if ending:
                self.leave_care(c, rows, leave)
                break
            if dec is None:
                break
        return rows

    def leave_care(self, c: Child, rows: list[dict[str, str]], leave: dt.date) -> None:
        """End a period of care on ``leave`` (the last of ``rows`` runs to that day). Mostly the child stops being
        looked after, for a reason that fits the age and placement: at 18 from foster care often staying put
        (E17, 18 or over, 903-460), otherwise into independent living (E5 supported, E6 not) or adult social
        care (E7, 16 or over, 903-389); at 17, also home (E4A) or to relatives (E13); home from a placement with
        parents (E4A); on remand, the remand ended (E14, 14 or over, 903-387). Some in a children's home (K2)
        stay on past 18, accommodated under section 20 there (LS V2 in K2, 903-359): the legal status changes
        that day (RNE L, 903-434), or, already V2, the episode stays open."""
        r9 = self.rng903
        last = rows[-1]
        if last["PLACE"] == "K2" and r9.random() < 0.3:
            if last["LS"] == "V2":
                last["DEC"] = last["REC"] = ""
            else:
                last["REC"] = "X1"
                rows.append({**last, "DECOM": _d903(leave), "RNE": "L", "LS": "V2", "DEC": "", "REC": ""})
            return
        if last["LS"] == "J1":
            rec = "E14"
        elif last["PLACE"] == "P1":
            rec = "E4A"
        elif _age(c.dob, leave) >= 18 and last["PLACE"] in FOSTER_903:
            rec = _pick(r9, [("E17", 50), ("E5", 35), ("E6", 15)])
        elif _age(c.dob, leave) >= 18:
            rec = _pick(r9, [("E5", 55), ("E6", 20), ("E7", 15), ("E8", 10)])
        else:
            rec = _pick(r9, [("E5", 40), ("E4A", 30), ("E6", 15), ("E13", 10), ("E8", 5)])
        last["REC"] = rec

    def placement(self, ep: dict, home: str) -> dict[str, str]:
        if ep["PLACE"] == "P1":
            return {"PLACE": "P1", "PLACE_PROVIDER": "PR0", "PL_POST": home, "URN": ""}
        pl_post = ep["PL_POST"]
        while pl_post.replace(" ", "") == home.replace(" ", ""):
            pl_post = _postcode(self.rng903)
        return {"PLACE": ep["PLACE"], "PLACE_PROVIDER": ep["PLACE_PROVIDER"], "PL_POST": pl_post, "URN": ep["URN"]}

    def oc2(
        self, c: Child, year_start: dt.date, year_end: dt.date, sdq: int, immunisations: str, substance_misuse: bool
    ) -> dict[str, str]:
        """A child's OC2 row (every child here has been looked after for the whole year). The SDQ score is for
        children 4 to 16 (903-188, 903-189); the health check is for under-5s (903-546); CONVICTED from age 10
        (903-542); a substance misuse problem says whether an intervention was received and, if not, offered
        (903-192, 903-159, 903-158, 903-193)."""
        r9 = self.rng903
        age_start, age_end = _age(c.dob, year_start), _age(c.dob, year_end)
        score = str(sdq) if age_start < 17 and age_end >= 4 else ""
        received, offered = "", ""
        if substance_misuse:
            received = "1" if r9.random() < 0.6 else "0"
            offered = "" if received == "1" else ("1" if r9.random() < 0.6 else "0")
        convicted = any(year_start - dt.timedelta(days=365) <= p <= self.end for p in c.proven)
        return {
            "CHILD": c.la_child_id,
            "DOB": _d903(c.dob),
            "SDQ_SCORE": score,
            "SDQ_REASON": "",
            "CONVICTED": "" if age_end < 10 else ("1" if convicted else "0"),
            "HEALTH_CHECK": "1" if age_end < 5 else "",
            "IMMUNISATIONS": immunisations,
            "TEETH_CHECK": "1",
            "HEALTH_ASSESSMENT": "1",
            "SUBSTANCE_MISUSE": "1" if substance_misuse else "0",
            "INTERVENTION_RECEIVED": received,
            "INTERVENTION_OFFERED": offered,
        }

    def board(self) -> None:
        rng = self.rng
        day = dt.date(self.start.year, 3, 15)
        while day <= self.end:
            for agency, p in (
                ("police", 0.95),
                ("probation", 0.8),
                ("health", 0.7),
                ("education", 0.75),
                ("childrens_social_care", 0.95),
                ("courts", 0.5),
            ):
                attended = rng.random() < p
                self.rows["board_attendance"].append(
                    {
                        "meeting_date": _d(day),
                        "partner_agency": agency,
                        "attended": _b(attended),
                        "senior_representative": _b(attended and rng.random() < 0.8),
                        "data_contributed": _b(attended and rng.random() < 0.6),
                    }
                )
            day = _add_months(day, 3)

    def reference(self) -> None:
        for year in range(self.start.year, self.end.year + 1):
            for la, pop in {self.la: POPULATION_10_17.get(self.la, 27_600)}.items():
                grown = int(pop * (1 + 0.012 * (year - self.start.year)))
                self.rows["population_10_17"].append({"la_code": la, "year": str(year), "population": str(grown)})
        src = "synthetic, shaped on DfE LAIT, MoJ and YJB youth justice statistics"
        areas = (("E92000001", "England", 1.0), ("E12000004", "East Midlands", 1.04))
        for year in range(self.start.year, self.end.year + 1):
            k = year - self.start.year
            fy = f"{year}-{(year + 1) % 100:02d}"
            values = [("FirstYJS", str(year), 150 - 4 * k), ("ReoffYO", fy, 32.5 + 0.2 * k),
                      ("ReoffFreq", fy, 3.6), ("CustodyRate", fy, 0.09)]  # fmt: skip
            if year >= 2023:  # the YJB's ten KPIs are collected from April 2023
                values += [(m, fy, v + 0.5 * k) for m, v in COMPARATOR_KPIS.items()]
            for code, name, factor in areas:
                for measure, period, value in values:
                    self.rows["published_comparators"].append(
                        {
                            "measure": measure,
                            "area_code": code,
                            "area_name": name,
                            "period": period,
                            "value": f"{value * factor:.2f}",
                            "source": src,
                        }
                    )

    def periods(self) -> dict[str, tuple[dt.date, dt.date]]:
        year_start = dt.date(self.end.year, 4, 1) if self.end.month >= 4 else dt.date(self.end.year - 1, 4, 1)
        out = {}
        for feed in self.rows:
            if feed.startswith("cic_") and feed != "cic_police_incidents":
                out[feed] = (year_start, dt.date(year_start.year + 1, 3, 31))
            else:
                out[feed] = (self.history_start, self.end)
        return out


def _csv_text(contract_columns: list[str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=contract_columns, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _inject(name: str, rows: dict[str, list[dict[str, str]]], rng: random.Random) -> dict:
    """Apply one defect to the rows; returns which rows (0-based) it touched."""
    feed, rule = DEFECTS[name]
    data = rows[feed]
    picks = sorted(rng.sample(range(len(data)), min(3, len(data))))
    if name == "bad_codes":
        for i in picks:
            data[i]["sex"] = "X"
    elif name == "impossible_dates":
        for i in picks:
            o = dt.date.fromisoformat(data[i]["outcome_date"])
            data[i]["offence_date"] = _d(o + dt.timedelta(days=10))
    elif name == "invalid_dates":
        for i in picks:
            data[i]["hearing_date"] = (
                data[i]["hearing_date"][:8] + "31"
                if data[i]["hearing_date"][5:7] in ("02", "04", "06", "09", "11")
                else data[i]["hearing_date"][:5] + "02-30"
            )
    elif name == "duplicates":
        for i in picks:
            data.append(dict(data[i]))
        picks = list(range(len(data) - len(picks), len(data)))
    elif name == "names_in_id_column":
        for j, i in enumerate(picks):
            data[i]["force_person_id"] = SYNTHETIC_NAMES[j % len(SYNTHETIC_NAMES)]
    elif name == "broken_funnel":
        for i in picks:
            data[i].update(mh_need="false", mh_offered="false", mh_attending="true")
    elif name == "old_sex_codes":
        for i in picks:
            data[i]["SEX"] = "1" if data[i]["SEX"] == "M" else "2"
    return {"defect": name, "feed": feed, "rule_id": rule, "rows": picks}


def generate(
    out: Path,
    *,
    seed: int = 7,
    children: int = 700,
    years: int = 3,
    end_year: int = 2025,
    la_code: str = DERBY,
    defects: list[str] | None = None,
) -> dict:
    """Write every feed of a synthetic partnership under ``out/<partner>/<feed>.csv``; returns the manifest."""
    unknown = sorted(set(defects or []) - set(DEFECTS))
    if unknown:
        raise ValueError(f"unknown defects: {', '.join(unknown)}; known: {', '.join(DEFECTS)}")
    gen = Generator(seed, children, years, end_year, la_code)
    p = gen.run()
    rng = random.Random(seed + 1)
    injected = [_inject(d, p.rows, rng) for d in (defects or []) if d not in FILE_DEFECTS]
    contracts = all_contracts()
    manifest: dict = {
        "seed": seed,
        "children": children,
        "years": years,
        "end_year": end_year,
        "la_code": la_code,
        "feeds": {},
        "defects": [],
    }
    for feed, rows in p.rows.items():
        c = contracts[feed]
        columns = list(c.column_names)
        if "missing_column" in (defects or []) and feed == DEFECTS["missing_column"][0]:
            columns.remove("transfer_achieved")
        if "name_column" in (defects or []) and feed == DEFECTS["name_column"][0]:
            columns.append("victim_name")
            for i, r in enumerate(rows):
                r["victim_name"] = SYNTHETIC_NAMES[i % len(SYNTHETIC_NAMES)]
        text = _csv_text(columns, [{k: r.get(k, "") for k in columns} for r in rows])
        if "malformed_lines" in (defects or []) and feed == DEFECTS["malformed_lines"][0]:
            lines = text.split("\n")
            for n in (5, 9):
                lines[n] = lines[n] + ",unexpected,extra"
            text = "\n".join(lines)
        path = out / c.partner / f"{feed}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        if "wrong_encoding" in (defects or []) and feed == DEFECTS["wrong_encoding"][0]:
            path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
        else:
            path.write_text(text, encoding="utf-8")
        start, end = p.period[feed]
        manifest["feeds"][feed] = {
            "partner": c.partner,
            "path": str(path.relative_to(out)),
            "rows": len(rows),
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "kind": c.kind,
        }
    for d in injected:
        d["lines"] = [i + 2 for i in d.pop("rows")]
        manifest["defects"].append(d)
    if "malformed_lines" in (defects or []):
        manifest["defects"].append(
            {
                "defect": "malformed_lines",
                "feed": "yos_interventions",
                "rule_id": "line.malformed",
                "lines": [6, 10],
            }
        )
    for name in ("missing_column", "wrong_encoding", "name_column"):
        if name in (defects or []):
            manifest["defects"].append(
                {"defect": name, "feed": DEFECTS[name][0], "rule_id": DEFECTS[name][1], "lines": []}
            )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
