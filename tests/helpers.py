"""Hand-built extracts for tests: a valid row per feed, overridden field by field."""

from __future__ import annotations

import csv
from pathlib import Path

from expectations.contract import get_contract

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
