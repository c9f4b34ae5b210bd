"""`yos status` as a monitoring system calls it: exit 0 and each feed named when healthy; non-zero, naming each
problem, when an extract is held back, an alert was not delivered and the published file is behind the loader."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb

YOS = str(Path(sys.executable).with_name("yos"))


def yos(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "YOS_DATA_DIR": str(data)}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([YOS, *args], capture_output=True, text=True, env=env, timeout=300)


def test_status_of_a_healthy_and_a_broken_data_directory(partnership: Path, defective: Path, tmp_path: Path) -> None:
    data = tmp_path / "d"
    for partner, feed in (("reference", "population_10_17"), ("police", "police_outcomes")):
        r = yos("load", feed, str(partnership / partner / f"{feed}.csv"), "--no-alert", data=data)
        assert r.returncode == 0, r.stdout + r.stderr
    ok = yos("status", data=data)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "reference/population_10_17" in ok.stdout and "police/police_outcomes" in ok.stdout
    assert "OK: nothing needs a person." in ok.stdout
    assert "PREFECT_API_URL is not set" in ok.stdout

    # an extract held back (its header lacks a column), then published
    r = yos("load", "custody_transfers", str(defective / "police" / "custody_transfers.csv"), "--no-alert", data=data)
    assert r.returncode == 2, r.stdout + r.stderr
    # an alert that could not be delivered, and a load the published file does not have yet
    con = duckdb.connect(str(data / "warehouse" / "loader.duckdb"))
    con.execute(
        "insert into audit.alerts values ('run-1', 'police', 'email', 'data-lead@police.example', ?, 'failed', 3, 2, "
        "'SMTP server refused the connection', 'outbox/x.eml')",
        [dt.datetime.now(dt.UTC)],
    )
    latest = con.execute("select max(load_id) from audit.loads").fetchone()[0]
    con.execute(
        "insert into audit.loads (load_id, extract_id, feed, partner, started_at, finished_at, status) "
        "select ?, extract_id, feed, partner, now(), now(), 'loaded' from audit.loads where load_id = ?",
        [latest + 1, latest],
    )
    con.close()
    bad = yos("status", data=data)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    out = bad.stdout
    assert "NEEDS ATTENTION (3)" in out
    assert "police/custody_transfers: extract received" in out and "was held back" in out
    assert "not delivered: SMTP server refused the connection" in out and "data-lead@police.example" in out
    assert f"the published file is behind the loader (published load {latest}, loader load {latest + 1})" in out
    assert "Traceback" not in bad.stderr


def test_status_says_a_load_is_running(partnership: Path, tmp_path: Path) -> None:
    data = tmp_path / "d"
    r = yos("load", "population_10_17", str(partnership / "reference" / "population_10_17.csv"), "--no-alert",
            data=data)  # fmt: skip
    assert r.returncode == 0, r.stderr
    holder = duckdb.connect(str(data / "warehouse" / "loader.duckdb"))  # the loader's lock, as a load holds it
    try:
        busy = yos("status", data=data)
    finally:
        holder.close()
    assert "a load is running" in busy.stdout, busy.stdout + busy.stderr
    assert busy.returncode == 0 and "Traceback" not in busy.stderr


def test_an_unreachable_prefect_server_needs_a_person(tmp_path: Path) -> None:
    env = {**os.environ, "YOS_DATA_DIR": str(tmp_path / "d"), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    r = subprocess.run([YOS, "status"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1
    assert "the Prefect server at http://127.0.0.1:9/api does not answer" in r.stdout
    assert "no published warehouse" in r.stdout
