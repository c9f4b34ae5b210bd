"""The benchmark runs at its smallest size (timing itself stays out of the test suite)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb

from expectations.contract import all_contracts

ROOT = Path(__file__).parents[1]


def test_the_bench_runs_and_writes_its_results(tmp_path: Path) -> None:
    results = tmp_path / "results.md"
    # six copies of the base partnership: the next night swaps one copy of each snapshot (a sixth of its rows); with
    # one copy it would swap every row, which the snapshot guard rightly holds back as a file cut short
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--police-rows", "13000", "--reruns", "1",
                        "--work", str(tmp_path / "work"), "--results", str(results)], capture_output=True, text=True,
                       timeout=900)  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    text = results.read_text()
    for row in (
        "(a) floor",
        "(b) pandas",
        "(c) yos-pipeline",
        "nothing new",
        "the Prefect server",
        "(d) the next night",
        "`kpi.first_time_entrants`",
    ):
        assert row in text
    # the next night's changes reached the warehouse: the snapshots' leavers withdrawn, the arrivals added, and the
    # five copies each snapshot sends again unchanged received but adding nothing
    changes = re.search(r"\(d\) received ([\d,]+) rows, quarantined 0, added ([\d,]+) versions and replaced or "
                        r"withdrew ([\d,]+)", text)  # fmt: skip
    assert changes, text
    received, added, withdrawn = (int(g.replace(",", "")) for g in changes.groups())
    assert 0 < added < received and withdrawn > 0
    # each copy is its own local authority, with its population, so the KPI models group by LA as at a national hub
    # (the snapshot sent on the next night holds six copies: five of the first night's and one new)
    work = tmp_path / "work"

    def las(folder: str, feed: str, column: str) -> int:
        path = work / folder / all_contracts()[feed].partner / f"{feed}.csv"
        return duckdb.sql(f"select count(distinct {column}) from read_csv('{path}')").fetchone()[0]

    assert las("partners", "yos_interventions", "home_la_code") == 6 * las("base", "yos_interventions", "home_la_code")
    assert las("partners", "population_10_17", "la_code") == 7 * las("base", "population_10_17", "la_code")
    assert re.search(r"\(c\), where the time went: [\d.]+ s pulling and landing, [\d.]+ s loading", text)
    # the results say which code they measured (a checkout's commit, marked when it had uncommitted changes)
    assert re.search(r"code at commit [0-9a-f]{7,}( with uncommitted changes)?\.", text), text[:500]
    # feed by feed, where loading's time goes: every feed of the first night loaded again, each step timed
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "feeds.py"), "--work", str(tmp_path / "work"),
                        "--pseudonym-cost"], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    step = (r"total +[\d.]+  stage +[\d.]+  unchanged +[\d.]+  validate +[\d.]+  GX +[\d.]+  rules' SQL +[\d.]+  "
            r"load +[\d.]+  remember +[\d.]+")  # fmt: skip
    timed = {m.group(1) for m in re.finditer(rf"^(\w+) +{step}$", r.stdout, re.M)}
    assert timed == set(all_contracts()) | {"all"}, r.stdout
    assert len(re.findall(r"^  stored rows: as sent [\d./]+ s, pseudonymised", r.stdout, re.M)) == len(all_contracts())
    # and the next night's extracts, loaded after the first night's as the next night loads them
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "feeds.py"), "--work", str(tmp_path / "work"),
                        "--next-night"], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    timed = {m.group(1) for m in re.finditer(rf"^(\w+) +{step}$", r.stdout, re.M)}
    assert {"yos_interventions", "all"} <= timed < set(all_contracts()) | {"all"}, r.stdout
