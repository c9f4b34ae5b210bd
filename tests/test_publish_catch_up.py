"""A publish killed part way leaves the loads committed and the analysts' file behind; the next run must see that
and publish, not report "unchanged" for ever (issue 29, item 7). Killed for real, with SIGKILL, mid-publish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from flows.run_loads import run_loads
from tests.helpers import write_extract

YOS = str(Path(sys.executable).with_name("yos"))


def published_outcomes(data: Path) -> int:
    con = duckdb.connect(str(data / "yos.duckdb"), read_only=True)
    try:
        return con.execute("select count(*) from core.police_outcomes").fetchone()[0]
    finally:
        con.close()


def test_a_publish_killed_part_way_is_caught_up_by_the_next_run(data_dir: Path, tmp_path: Path) -> None:
    first = write_extract(tmp_path / "first.csv", "police_outcomes", [{"outcome_id": f"A{i}"} for i in range(5)])
    second = write_extract(tmp_path / "second.csv", "police_outcomes", [{"outcome_id": f"B{i}"} for i in range(7)])
    env = {**os.environ, "YOS_DATA_DIR": str(data_dir)}
    done = subprocess.run([YOS, "load", "police_outcomes", str(first), "--no-alert"], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert published_outcomes(data_dir) == 5

    building = data_dir / "yos.next.duckdb"
    loading = subprocess.Popen([YOS, "load", "police_outcomes", str(second), "--no-alert"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 240
    while not building.exists() and loading.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert loading.poll() is None, "the load finished before its publish could be interrupted"
    os.kill(loading.pid, signal.SIGKILL)
    loading.wait()
    assert published_outcomes(data_dir) == 5  # the analysts' file is behind: the second extract is committed

    run = run_loads([])  # the next run: nothing new has arrived
    assert run.published is not None
    assert published_outcomes(data_dir) == 12  # police outcomes come as deltas: both extracts' rows, now published
    assert run_loads([]).published is None  # caught up: the run after that has nothing to publish
