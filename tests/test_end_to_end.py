"""The demo path end to end through real parts: partner endpoints over HTTP on 127.0.0.1, a real Prefect API
(`prefect server start`), a real SMTP server (aiosmtpd), a real DuckDB file, and the alert rendered in Chromium."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox.generate import generate
from sandbox.mailcatcher import MailCatcher
from sandbox.partner_server import serve
from tests.helpers import PARTNER_TOKENS, TOKENS, screenshot
from warehouse.db import connect_analyst

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def nightly_run(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("e2e")
    partners = root / "partners"
    generate(
        partners,
        seed=5,
        children=250,
        defects=["bad_codes", "duplicates", "names_in_id_column", "missing_column", "broken_funnel"],
    )
    server = serve(partners, PARTNER_TOKENS)
    with MailCatcher(root / "mail") as catcher:
        env = {
            **os.environ,
            **TOKENS,
            "YOS_DATA_DIR": str(root / "data"),
            "PREFECT_API_URL": prefect_api,
            "YOS_PARTNERS_URL": server.url,
            "YOS_SMTP_HOST": "127.0.0.1",
            "YOS_SMTP_PORT": str(catcher.port),
            "YOS_PSEUDONYM_KEY": "e2e-key",
            "PREFECT_HOME": str(root / "prefect-client"),
        }
        proc = subprocess.run(
            [str(BIN / "yos"), "run", "nightly"], env=env, capture_output=True, text=True, timeout=600
        )
        mails = catcher.messages()
    server.shutdown()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "data": root / "data",
        "mails": mails,
        "api": prefect_api,
    }


def test_printed_numbers_match_the_warehouse(nightly_run: dict) -> None:
    printed = {
        m.group(1): tuple(int(x) for x in m.group(3, 4, 5))
        for m in re.finditer(
            r"^\w+/(\w+): (\w+) \((\d+) received, (\d+) loaded, (\d+) quarantined\)$",
            nightly_run["stdout"],
            re.M,
        )
    }
    assert len(printed) == 13
    con = connect_analyst(nightly_run["data"] / "yos.duckdb")
    stored = {
        f: (r, lo, q)
        for f, r, lo, q in con.execute(
            "select feed, rows_received, rows_loaded, rows_quarantined from audit.loads"
        ).fetchall()
    }
    assert printed == stored
    assert printed["police_outcomes"][2] == 9  # 3 bad codes + 3 duplicates + 3 names in the id column
    assert printed["custody_transfers"][1] == 0  # held back whole
    for feed, (received, loaded, quarantined) in printed.items():
        if feed != "custody_transfers":
            assert received == loaded + quarantined, feed
    fte = con.execute("select sum(fte_count) from kpi.first_time_entrants").fetchone()[0]
    assert fte > 0


def test_the_flow_ran_under_the_real_prefect_api(nightly_run: dict) -> None:
    runs = httpx.post(f"{nightly_run['api']}/flow_runs/filter", json={}, timeout=10).json()
    nightly = [r for r in runs if r["state_type"] == "COMPLETED"]
    assert nightly, runs
    tasks = httpx.post(f"{nightly_run['api']}/task_runs/filter", json={}, timeout=10).json()
    names = {t["name"] for t in tasks}
    assert "pull police/police_outcomes" in names and "load police/police_outcomes" in names


def test_each_partner_gets_its_own_alert_and_nothing_of_another_agency(nightly_run: dict) -> None:
    by_rcpt = {m["To"]: m for m in nightly_run["mails"]}
    assert set(by_rcpt) == {"data-lead@police.example", "data-lead@yos.example"}
    police = by_rcpt["data-lead@police.example"]
    attachments = {a.get_filename(): a.get_content() for a in police.iter_attachments()}
    assert set(attachments) == {"police_outcomes_failing_rows.csv"}
    rows = list(csv.DictReader(io.StringIO(attachments["police_outcomes_failing_rows.csv"])))
    assert {r["rule"] for r in rows} == {
        "police_outcomes.sex.codes",
        "police_outcomes.key.unique",
        "police_outcomes.force_person_id.format",
    }
    assert all(r["outcome_id"].startswith("PO") for r in rows)  # the partner's own rows, as sent
    text = police.get_body(("plain",)).get_content()
    assert "custody_transfers" in text and "HELD BACK WHOLE" in text and "transfer_achieved" in text
    assert "yos_interventions" not in text and "court_disposals" not in text
    yos = by_rcpt["data-lead@yos.example"]
    assert "police_outcomes" not in yos.get_body(("plain",)).get_content()
    assert {a.get_filename() for a in yos.iter_attachments()} == {"yos_interventions_failing_rows.csv"}


def test_the_html_alert_renders_in_chromium(nightly_run: dict, tmp_path: Path) -> None:
    police = next(m for m in nightly_run["mails"] if m["To"] == "data-lead@police.example")
    html = police.get_body(("html",)).get_content()
    assert "https://" not in html and "http://" not in html  # opens offline
    page = tmp_path / "alert.html"
    page.write_text(html)
    screenshot(page, tmp_path / "alert-police.png")


def test_every_extract_has_a_self_contained_validation_report(nightly_run: dict, tmp_path: Path) -> None:
    reports = sorted((nightly_run["data"] / "reports").glob("*.html"))
    assert len(reports) == 13
    for report in reports:
        html = report.read_text()
        assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", html) and "<script" not in html and "<link" not in html
    police = next(r for r in reports if r.name.startswith("police_outcomes-"))
    text = police.read_text()
    assert "ExpectColumnValuesToBeInSet" in text or "expect_column_values_to_be_in_set" in text
    assert "police_outcomes.sex.codes" in text
    screenshot(police, tmp_path / "report-police_outcomes.png")


def test_the_nightly_run_writes_the_board_pack_from_the_published_figures(nightly_run: dict, tmp_path: Path) -> None:
    pack = nightly_run["data"] / "board-pack.html"
    assert f"board pack {pack}" in nightly_run["stdout"]
    html = pack.read_text()
    # self-contained: nothing fetched from a network, no scripts; one chart per measure
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", html) and "<script" not in html and "<link" not in html
    con = connect_analyst(nightly_run["data"] / "yos.duckdb")
    measures = con.execute(
        "select count(distinct measure) from published.measures where la_code = 'E06000015'"
    ).fetchone()[0]
    assert measures >= 25 and html.count("<svg") == measures
    # the latest complete year's FTE rate and its England comparator are the published ones
    year, rate, england = con.execute(
        """select period, value, england_value from published.measures
           where measure = 'first_time_entrants' and la_code = 'E06000015'
           order by provisional, period desc limit 1"""
    ).fetchone()
    card = html[html.index('id="first_time_entrants"') :]
    assert f"{rate:.1f}" in card[:600] and f"in {year}" in card[:800] and f"{england:.1f}" in card
    assert "Disclosure control applied" in html
    screenshot(pack, tmp_path / "board-pack.png", height=2400)


def test_a_partner_refusing_the_credential_fails_the_run_clearly_and_the_rest_load(
    prefect_api: str, tmp_path: Path, partnership: Path
) -> None:
    server = serve(partnership, {**PARTNER_TOKENS, "police": "not-what-we-send"})
    env = {**os.environ, **TOKENS, "YOS_DATA_DIR": str(tmp_path / "data"), "PREFECT_API_URL": prefect_api,
           "YOS_PARTNERS_URL": server.url, "YOS_SMTP_PORT": "9", "YOS_PSEUDONYM_KEY": "k"}  # fmt: skip
    try:
        r = subprocess.run([str(BIN / "yos"), "run", "nightly"], env=env, capture_output=True, text=True, timeout=600)
    finally:
        server.shutdown()
    assert r.returncode == 1
    assert (
        "police/police_outcomes: the partner refused the credential (401); check environment variable "
        "YOS_TOKEN_POLICE" in r.stderr
    )
    assert r.stderr.rstrip().splitlines()[-1].startswith("Error: 3 feed(s) could not be fetched")
    con = connect_analyst(tmp_path / "data" / "yos.duckdb")
    assert con.execute("select count(*) from core.court_disposals").fetchone()[0] > 0
    assert con.execute("select count(*) from core.police_outcomes").fetchone()[0] == 0
