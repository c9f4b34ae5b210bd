"""The benchmark runs at its smallest size (timing itself stays out of the test suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_bench_runs_and_writes_its_results(tmp_path: Path) -> None:
    results = tmp_path / "results.md"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--police-rows", "1000", "--reruns", "1",
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
        "`kpi.first_time_entrants`",
    ):
        assert row in text
