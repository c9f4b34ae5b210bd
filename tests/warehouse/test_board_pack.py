"""The board pack: charts that show suppression and provisional figures honestly, clear errors, and a PDF."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reports.board_pack import Measure, chart, chromium_failure, print_pdf
from tests.helpers import load_rows
from yos.cli import cli


def point(period: str, value: float | None, *, suppressed: bool = False, provisional: bool = False) -> dict:
    return {"period": period, "value": value, "suppressed": suppressed, "provisional": provisional,
            "england_value": 10.0, "comparator_value": None}  # fmt: skip


def measure(*points: dict) -> Measure:
    return Measure("Headline", "m", "A measure", "per 1,000 aged 10-17", "lower", "Def.", "East Midlands", list(points))


def test_a_suppressed_figure_breaks_the_line_and_is_marked() -> None:
    svg = chart(measure(point("2022-23", 12.0), point("2023-24", None, suppressed=True), point("2024-25", 8.0)))
    local = re.findall(r'<polyline[^>]*stroke="#1d70b8"[^>]*points="([^"]+)"', svg)
    assert len(local) == 2 and all(len(p.split()) == 1 for p in local)  # two one-point segments, no line across
    assert ">s</text>" in svg
    england = re.findall(r'<polyline[^>]*stroke="#505a5f"[^>]*points="([^"]+)"', svg)
    assert len(england) == 1 and len(england[0].split()) == 3  # the comparator line runs through every period


def test_the_latest_figure_is_the_latest_complete_period() -> None:
    m = measure(point("2023-24", 12.0), point("2024-25", 8.0), point("2025-26", 2.0, provisional=True))
    assert m.latest["period"] == "2024-25"
    assert 'fill="#ffffff"' in chart(m)  # the provisional point is hollow
    assert measure(point("2025-26", 2.0, provisional=True)).latest["period"] == "2025-26"


def test_which_way_is_better() -> None:
    m = measure(point("2024-25", 8.0))
    assert (m.verdict(-2.0), m.verdict(2.0), m.verdict(0.0), m.verdict(None)) == ("better", "worse", "", "")


def test_yos_report_before_any_load_says_what_to_do() -> None:
    result = CliRunner().invoke(cli, ["report"])
    assert result.exit_code == 1
    assert "there is no published warehouse yet: run `yos run nightly` first" in result.output


def test_yos_report_writes_html_and_pdf(pipeline, tmp_path: Path) -> None:  # noqa: ANN001
    if not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it")
        pytest.skip("chromium not installed here")
    load_rows(pipeline, tmp_path, "population_10_17", [{"year": "2024"}])
    load_rows(
        pipeline,
        tmp_path,
        "police_outcomes",
        [{"outcome_id": f"P{i}", "pnc_id": f"23/000000{i}A", "force_person_id": f"DP{i}00"} for i in range(7)],
    )
    pipeline.publish()
    pipeline.close()
    out = tmp_path / "pack.html"
    result = CliRunner().invoke(cli, ["report", "--out", str(out), "--pdf"])
    assert result.exit_code == 0, result.output
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    html = out.read_text()
    # 7 first time entrants in 2024 out of 20,000: shown (7 >= 5), 35.0 per 100,000
    assert 'id="first_time_entrants"' in html and "35.0" in html


def test_print_pdf_without_chromium_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>")
    with pytest.raises(Exception, match="a PDF needs Chromium"):
        print_pdf(page, tmp_path / "p.pdf")


def test_print_pdf_from_a_long_temporary_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chromium aborts when its singleton socket's path under $TMPDIR passes what a Unix socket holds (as a test
    # worker's temporary directory did in CI); the PDF must still print.
    if not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it")
        pytest.skip("chromium not installed here")
    long_tmp = tmp_path / ("t" * 70)
    long_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(long_tmp))
    monkeypatch.setattr("tempfile.tempdir", None)
    page = tmp_path / "p.html"
    page.write_text("<p>A figure</p>")
    assert print_pdf(page, tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")


def test_a_chromium_failure_names_its_fatal_reason() -> None:
    stderr = (
        "[1:1:1202/215023.895644:ERROR:dbus/bus.cc:405] Failed to connect to the bus\n"
        "[1:1:1202/215103.737269:FATAL:chrome/browser/process_singleton_posix.cc:315] Socket path too long: /t/S.\n"
    )
    done = subprocess.CompletedProcess(["chromium"], -6, "", stderr)
    assert chromium_failure(done) == "exit -6: Socket path too long: /t/S."
    assert chromium_failure(subprocess.CompletedProcess(["chromium"], 1, "", "")) == "exit 1"


def test_a_measure_whose_feed_was_held_back_keeps_its_card_and_says_why(pipeline, tmp_path: Path) -> None:  # noqa: ANN001
    # issue 25, item 12: the custody transfers extract is held back whole (a column is missing), so the measure
    # has no figure; its card and its summary line stay, saying why and since when
    import datetime as dt

    import duckdb

    from reports.board_pack import render

    load_rows(pipeline, tmp_path, "population_10_17", [{"year": "2024"}])
    load_rows(
        pipeline,
        tmp_path,
        "police_outcomes",
        [{"outcome_id": f"P{i}", "pnc_id": f"23/000000{i}A", "force_person_id": f"DP{i}00"} for i in range(7)],
    )
    broken = tmp_path / "custody_transfers.csv"
    broken.write_text(
        "detention_id,pnc_id,force_person_id,dob,home_la_code,charge_datetime,bail_refused,accommodation_requested,"
        "reason_not_transferred\nDT1,,DP9000001,2008-06-15,E06000015,2024-05-01T21:15:00+00:00,true,non_secure,\n"
    )
    result = pipeline.load(pipeline.land_file("custody_transfers", broken))
    assert result.status == "held_back"
    published = pipeline.publish()
    pipeline.close()
    con = duckdb.connect(str(published), read_only=True)
    html = render(con, pipeline.cfg.area, 5)
    today = dt.datetime.now(dt.UTC).strftime("%d %B %Y")
    card = html[html.index('id="custody_transfers_achieved"') :]
    card = card[: card.index('<div class="card"')] if '<div class="card"' in card else card
    assert "no figure" in card
    assert f"the police custody_transfers extract has been held back since {today}" in card
    assert "none has been loaded" in card
    # and the summary keeps its line
    summary = html[: html.index("<h2>Partners")]
    assert "Custody transfers achieved (concordat)" in summary and "held back since" in summary
