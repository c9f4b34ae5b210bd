"""Hand-built extracts for tests: a valid row per feed, overridden field by field."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from expectations.contract import get_contract
from reports.board_pack import chromium_failure, chromium_path, headless_chromium

VALID = {
    "police_outcomes": {
        "outcome_id": "PO1",
        "pnc_id": "20/1234567A",
        "force_person_id": "DP1000001",
        "dob": "2008-06-15",
        "sex": "M",
        "ethnicity": "WBRI",
        "home_la_code": "E06000015",
        "offence_date": "2024-03-01",
        "offence_code": "104/29",
        "offence_category": "theft",
        "gravity_score": "2",
        "weapon": "none",
        "victim_relationship": "business",
        "outcome_date": "2024-03-20",
        "outcome_type": "2",
        "child_gravity_matrix": "3",
    },
    "court_disposals": {
        "disposal_id": "CD1",
        "pnc_id": "20/1234567A",
        "dob": "2008-06-15",
        "sex": "M",
        "home_la_code": "E06000015",
        "offence_date": "2024-03-01",
        "hearing_date": "2024-05-01",
        "offence_code": "104/29",
        "offence_category": "theft",
        "gravity_score": "3",
        "weapon": "none",
        "victim_relationship": "stranger",
        "verdict": "convicted",
        "disposal_type": "referral_order",
        "length_months": "6",
        "remand_status": "none",
    },
    "population_10_17": {"la_code": "E06000015", "year": "2024", "population": "20000"},
    "published_comparators": {
        "measure": "FirstYJS",
        "area_code": "E92000001",
        "area_name": "England",
        "period": "2024",
        "value": "150",
        "source": "test",
    },
    "yos_interventions": {
        "intervention_id": "IV1",
        "yos_child_id": "YJ000001",
        "pnc_id": "",
        "la_child_id": "",
        "dob": "2008-06-15",
        "sex": "M",
        "ethnicity": "WBRI",
        "home_la_code": "E06000015",
        "intervention_type": "referral_order",
        "linked_outcome_id": "",
        "linked_disposal_id": "",
        "start_date": "2024-01-10",
        "end_date": "2024-07-10",
        "end_reason": "completed",
        **dict.fromkeys(
            ["accommodation_suitable_start", "accommodation_suitable_end", "ete_suitable_start", "ete_suitable_end"],
            "true",
        ),
        "ete_hours_offered": "25",
        "ete_hours_attended": "20",
        "send_identified": "false",
        "learning_plan": "none",
        **dict.fromkeys(["mh_need", "mh_offered", "mh_attending", "sm_need", "sm_offered", "sm_attending"], "false"),
        **dict.fromkeys(
            ["early_help", "child_protection_plan", "child_in_need", "looked_after", "care_leaver"], "false"
        ),
    },
    "yos_assessments": {
        "assessment_id": "AS1",
        "yos_child_id": "YJ000001",
        "intervention_id": "IV1",
        "assessment_date": "2024-01-12",
        "stage": "start",
        "rosh_level": "Low",
        "safety_wellbeing_level": "Low",
        "likelihood_reoffending": "Low",
        "rosh_plan_in_place": "false",
        "safety_wellbeing_plan_in_place": "false",
    },
    "yos_victims": {
        "victim_record_id": "VR1",
        "intervention_id": "IV1",
        "victim_type": "person",
        "consent_to_contact": "true",
        "contacted_date": "2024-01-20",
        "rj_offered": "false",
        "rj_engaged": "false",
        "safety_plan": "false",
    },
    "cic_police_incidents": {
        "incident_id": "IN1",
        "la_child_id": "LA000001",
        "pnc_id": "",
        "incident_date": "2024-05-01",
        "placement_type": "K2",
        "reported_by": "placement_staff",
        "incident_type": "damage",
        "restorative_approach_used": "true",
        "police_outcome": "no_further_action",
    },
    "custody_transfers": {
        "detention_id": "DT1",
        "pnc_id": "",
        "force_person_id": "DP9000001",
        "dob": "2008-06-15",
        "home_la_code": "E06000015",
        "charge_datetime": "2024-05-01T21:15:00+00:00",
        "bail_refused": "true",
        "accommodation_requested": "non_secure",
        "transfer_achieved": "true",
        "reason_not_transferred": "",
    },
    "board_attendance": {
        "meeting_date": "2024-06-15",
        "partner_agency": "police",
        "attended": "true",
        "senior_representative": "true",
        "data_contributed": "true",
    },
}


def write_extract(path: Path, feed: str, rows: list[dict[str, str]]) -> Path:
    contract = get_contract(feed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=contract.column_names, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({**VALID.get(feed, {}), **r})
    return path


def load_rows(pipeline, tmp: Path, feed: str, rows: list[dict[str, str]], name: str | None = None):  # noqa: ANN001
    """Write ``rows`` (each a valid row with overrides) as an extract of ``feed`` and load it."""
    path = write_extract(tmp / (name or f"{feed}.csv"), feed, rows)
    return pipeline.load(pipeline.land_file(feed, path))


def screenshot(page: Path, shot: Path, height: int = 1500) -> None:
    """Render ``page`` in headless Chromium (Debian's package) to ``shot``; keep a copy in $YOS_KEEP_SCREENSHOTS."""
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it")
        pytest.skip("chromium not installed here")
    done = headless_chromium(
        ["--hide-scrollbars", f"--window-size=1100,{height}", f"--screenshot={shot}", page.as_uri()]
    )
    assert done.returncode == 0, f"Chromium could not render {page.name} ({chromium_failure(done)})"
    assert shot.stat().st_size > 20_000
    if os.environ.get("YOS_KEEP_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["YOS_KEEP_SCREENSHOTS"]) / shot.name)


# The stand-in partners' tokens (sandbox.partner_server) and the same tokens as the pipeline reads them.
TOKENS = {
    "YOS_TOKEN_POLICE": "tp",
    "YOS_TOKEN_COURTS": "tc",
    "YOS_TOKEN_CSC": "ts",
    "YOS_TOKEN_YOS": "ty",
    "YOS_TOKEN_REFERENCE": "tr",
}
PARTNER_TOKENS = {
    "police": "tp",
    "courts": "tc",
    "childrens_social_care": "ts",
    "yos": "ty",
    "reference": "tr",
}
