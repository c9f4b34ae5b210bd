"""The collection year an SSDA903 extract is checked against (declared period, else the extract's own dates, never
the day it arrived), an earlier year's return sent again through `yos load --period`, and the coverage table."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from expectations import ssda903
from tests.helpers import write_extract

HEADER_2023 = {"CHILD": "C000001", "SEX": "1", "DOB": "01/06/2010", "ETHNIC": "WBRI", "UPN": "A123456789012"}


def _year_and_problems(con, load_id: int) -> tuple[int, list[str]]:  # noqa: ANN001
    (year,) = con.execute("select collection_year from audit.loads where load_id = ?", [load_id]).fetchone()
    rules = [r for (r,) in con.execute("select rule_id from quarantine.row_problems where load_id = ?", [load_id])
             .fetchall()]  # fmt: skip
    return year, rules


def test_a_resent_earlier_year_is_checked_with_that_years_rules(data_dir: Path, tmp_path: Path) -> None:
    from flows.steps import Pipeline
    from yos.cli import cli

    path = write_extract(tmp_path / "header-2023.csv", "cic_header", [HEADER_2023])
    runner = CliRunner()
    old = runner.invoke(cli, ["load", "cic_header", str(path), "--no-alert", "--period", "2023-04-01/2024-03-31"])
    assert old.exit_code == 0, old.output
    assert "1 received, 1 loaded, 0 quarantined" in old.output
    path2 = write_extract(tmp_path / "header-2025.csv", "cic_header", [{**HEADER_2023, "CHILD": "C000002"}])
    new = runner.invoke(cli, ["load", "cic_header", str(path2), "--no-alert", "--period", "2025-04-01/2026-03-31"])
    assert new.exit_code == 0, new.output
    assert "1 received, 0 loaded, 1 quarantined" in new.output  # SEX 1 is not a sex code from 2024/25
    with Pipeline() as p:
        loads = [r for (r,) in p.con.execute("select load_id from audit.loads order by load_id").fetchall()]
        assert [_year_and_problems(p.con, i) for i in loads] == [(2023, []), (2025, ["903-101"])]


def test_without_a_declared_period_the_year_comes_from_the_data_not_the_arrival(pipeline, tmp_path: Path) -> None:
    episodes = [
        {"CHILD": "C000001", "DECOM": "10/04/2023", "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "U1",
         "PLACE_PROVIDER": "PR1", "DEC": "02/02/2024", "REC": "E8"},
    ]  # fmt: skip
    e = pipeline.load(pipeline.land_file("cic_episodes", write_extract(tmp_path / "e.csv", "cic_episodes", episodes)))
    assert _year_and_problems(pipeline.con, e.load_id) == (2023, [])
    # the Header has no dates of its own (only dates of birth): the year of the return's Episodes
    h = pipeline.load(pipeline.land_file("cic_header", write_extract(tmp_path / "h.csv", "cic_header", [HEADER_2023])))
    assert _year_and_problems(pipeline.con, h.load_id) == (2023, [])


def test_the_coverage_table_is_generated_and_current() -> None:
    doc = Path(__file__).parents[2] / "docs" / "contracts" / "ssda903-coverage.md"
    assert doc.read_text() == ssda903.coverage_markdown(), "run `make docs` and commit docs/contracts"


def test_every_catalogue_rule_in_scope_is_implemented_or_says_why_not() -> None:
    for code, by_year in ssda903.coverage():
        for year, (state, why) in by_year.items():
            assert state in ("implemented", "not applicable", "not yet implemented", "out of scope", "not in force")
            assert state == "not in force" or why, (code, year)
            assert (state == "implemented") == (code in ssda903.checks() and ssda903.in_force(code, year))
