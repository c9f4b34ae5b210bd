"""Each class of rule, with a row that passes and a row that fails, through the real load path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flows.steps import Pipeline
from tests.helpers import write_extract

CASES = [
    ("required", {"sex": ""}, "police_outcomes.sex.required", "error"),
    ("type", {"gravity_score": "2.5"}, "police_outcomes.gravity_score.type", "error"),
    ("codes", {"weapon": "Knife"}, "police_outcomes.weapon.codes", "error"),
    ("format", {"home_la_code": "Derby"}, "police_outcomes.home_la_code.format", "error"),
    ("range", {"gravity_score": "9"}, "police_outcomes.gravity_score.range", "error"),
    ("not_future", {"outcome_date": "2099-01-01"}, "police_outcomes.outcome_date.not_future", "error"),
    ("cross", {"offence_date": "2024-04-01"}, "police_outcomes.offence_before_outcome", "error"),
    ("warning", {"offence_code": "theft"}, "police_outcomes.offence_code.format", "warning"),
]


@pytest.mark.parametrize(("kind", "bad", "rule_id", "severity"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_class_passes_good_rows_and_catches_bad_ones(
    pipeline: Pipeline, tmp_path: Path, kind: str, bad: dict, rule_id: str, severity: str
) -> None:
    path = write_extract(tmp_path / "x.csv", "police_outcomes", [{"outcome_id": "GOOD"}, {"outcome_id": "BAD", **bad}])
    r = pipeline.load(pipeline.land_file("police_outcomes", path))
    found = pipeline.con.execute(
        "select line, rule_id, severity from quarantine.row_problems where load_id = ?", [r.load_id]
    ).fetchall()
    assert found == [(3, rule_id, severity)]
    assert r.rows_loaded == (2 if severity == "warning" else 1)
    assert r.rows_received == r.rows_loaded + r.rows_quarantined


def test_a_malformed_line_is_quarantined_and_the_rest_load(pipeline: Pipeline, tmp_path: Path) -> None:
    path = write_extract(tmp_path / "x.csv", "police_outcomes", [{"outcome_id": "A"}, {"outcome_id": "B"}])
    path.write_text(path.read_text() + "C,,too,few\n")
    r = pipeline.load(pipeline.land_file("police_outcomes", path))
    assert (r.rows_received, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    assert pipeline.con.execute("select line, rule_id from quarantine.row_problems").fetchall() == [
        (4, "line.malformed")
    ]


def test_after_a_malformed_line_each_row_keeps_its_own_line(pipeline: Pipeline, tmp_path: Path) -> None:
    path = write_extract(tmp_path / "x.csv", "police_outcomes", [{"outcome_id": "A"}, {"outcome_id": "B", "sex": "X"}])
    header, a, b = path.read_text().splitlines()
    path.write_text("\n".join([header, a, "C,,too,few", b]) + "\n")  # lines 1-4: the malformed line is line 3
    r = pipeline.load(pipeline.land_file("police_outcomes", path))
    assert (r.rows_received, r.rows_loaded, r.rows_quarantined) == (3, 1, 2)
    assert pipeline.con.execute(
        "select line, rule_id, value from quarantine.row_problems order by line"
    ).fetchall() == [
        (3, "line.malformed", None),
        (4, "police_outcomes.sex.codes", "X"),
    ]
    assert pipeline.con.execute("select outcome_id, _line from history.police_outcomes").fetchall() == [("A", 2)]


@pytest.mark.parametrize(("period_end", "sex", "ok"), [
    (dt.date(2024, 3, 31), "1", True),   # 2023/24 collection: SEX 1/2
    (dt.date(2025, 3, 31), "1", False),  # 2024/25 on: M/F/U
    (dt.date(2025, 3, 31), "M", True),
])  # fmt: skip
def test_ssda903_codes_follow_the_collection_year(pipeline: Pipeline, tmp_path: Path, period_end, sex, ok) -> None:
    row = {"CHILD": "C000001", "SEX": sex, "DOB": "01/06/2010", "ETHNIC": "WBRI", "UPN": "A123456789012"}
    path = write_extract(tmp_path / "h.csv", "cic_header", [row])
    r = pipeline.load(pipeline.land_file("cic_header", path, period=(None, period_end)))
    assert (r.rows_loaded == 1) is ok


def test_a_byte_order_mark_and_windows_line_endings_are_tolerated(pipeline: Pipeline, tmp_path: Path) -> None:
    path = write_extract(tmp_path / "x.csv", "police_outcomes", [{"outcome_id": "A"}, {"outcome_id": "B", "sex": "X"}])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    r = pipeline.load(pipeline.land_file("police_outcomes", path))
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("loaded", 1, 1)
    assert pipeline.con.execute("select line, value from quarantine.row_problems").fetchall() == [(3, "X")]
