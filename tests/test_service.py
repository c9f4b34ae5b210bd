"""`yos serve` against a real `prefect server start`: the deployments and triggers of prefect.yaml are registered,
and a file dropped into the intake folder is loaded because it arrived, within a bounded wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import yaml

ROOT = Path(__file__).parents[1]


def test_a_dropped_file_is_loaded_by_its_triggered_deployment(prefect_api: str, partnership: Path, tmp_path: Path):
    data = tmp_path / "data"
    env = {**os.environ, "YOS_DATA_DIR": str(data), "PREFECT_API_URL": prefect_api}
    serve = subprocess.Popen(
        [str(Path(sys.executable).with_name("yos")), "serve", "--scan-interval", "1", "--settle", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # the deployments and the trigger that prefect.yaml declares are registered on the server
        declared = {d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}
        deadline = time.monotonic() + 180
        deployments: dict = {}
        while time.monotonic() < deadline and set(deployments) != set(declared):
            time.sleep(2)
            assert serve.poll() is None, serve.stdout.read()
            deployments = {d["name"]: d for d in httpx.post(f"{prefect_api}/deployments/filter", json={}).json()}
        assert set(deployments) == set(declared)
        for name, d in declared.items():
            want = [(s["cron"], s["timezone"]) for s in d.get("schedules", [])]
            got = [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in deployments[name]["schedules"]]
            assert got == want, name
        assert ("0 2 * * *", "Europe/London") in [
            (s["schedule"]["cron"], s["schedule"]["timezone"]) for s in deployments["nightly"]["schedules"]
        ]
        automations = httpx.post(f"{prefect_api}/automations/filter", json={}).json()
        triggers = [a["trigger"] for a in automations]
        assert any(
            t["expect"] == ["yos.extract.landed"]
            and t["match"] == {"prefect.resource.id": "yos.feed.*", "yos.landed-from": "intake"}
            for t in triggers
        ), triggers

        # drop a file; it lands, its event triggers load-landed, and the warehouse shows it
        folder = data / "intake" / "police"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "police_outcomes.csv.part").write_bytes((partnership / "police" / "police_outcomes.csv").read_bytes())
        os.replace(folder / "police_outcomes.csv.part", folder / "police_outcomes.csv")
        rows = (partnership / "police" / "police_outcomes.csv").read_text().count("\n") - 1
        deadline = time.monotonic() + 240
        loaded = 0
        while time.monotonic() < deadline and loaded != rows:
            time.sleep(2)
            assert serve.poll() is None
            if (data / "yos.duckdb").exists():
                con = duckdb.connect(str(data / "yos.duckdb"), read_only=True)
                loaded = con.execute("select count(*) from core.police_outcomes").fetchone()[0]
                con.close()
        assert loaded == rows
        runs = httpx.post(f"{prefect_api}/flow_runs/filter", json={}).json()
        load_runs = [r for r in runs if r["name"].startswith("load landed")]
        assert load_runs and load_runs[0]["parameters"] == {"feed": "police_outcomes"}
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            out, _ = serve.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            out, _ = serve.communicate()
    assert "stopped" in out
