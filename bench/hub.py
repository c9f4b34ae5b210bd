"""The regional hub's bench: N generated partnerships' first nights (default 8) through one Prefect server on a
throwaway PostgreSQL, serially on one worker, then in parallel on two, each from empty data directories.

For each run: the wall time from the first flow run submitted to the last nightly's end (and to the hub warehouse
rebuilt after it), the sum of the nightlies' own durations, the peak RSS of the partnership workers' process trees
(the flow-run processes included), of the hub's rebuild worker and of the partnerships' intake watchers (one
``yos intake watch`` each, as ``yos hub serve`` runs them), and the Prefect server's own cost (its start-up,
CPU time and peak RSS during the runs, and PostgreSQL's: the sum of its processes' RSS, which counts its shared
buffers once per process, so an upper bound), sampled every 100 ms from /proc.

    python bench/hub.py --partnerships 8 --children 150
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import _tree_cpu_seconds, _tree_rss_kb  # noqa: E402

from hub.config import load_hub  # noqa: E402
from hub.serve import HubService  # noqa: E402
from sandbox.generate import generate  # noqa: E402
from sandbox.partner_server import serve  # noqa: E402

LAS = [("E06000015", "Derby"), ("E06000016", "Leicester"), ("E06000018", "Nottingham"), ("E10000007", "Derbyshire"),
       ("E10000018", "Leicestershire"), ("E10000024", "Nottinghamshire"), ("E06000017", "Rutland"),
       ("E10000019", "Lincolnshire")]  # fmt: skip
TOKENS = {"police": "t-police", "courts": "t-courts", "childrens_social_care": "t-csc", "yos": "t-yos",
          "reference": "t-reference"}  # fmt: skip
FILES = {"police": "police", "courts": "courts", "childrens_social_care": "csc", "yos": "yos", "reference": "reference"}
ENDED = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def write_hub(root: Path, urls: list[str]) -> Path:
    members = {}
    for i, url in enumerate(urls):
        la, name = LAS[i % len(LAS)]
        mid = f"p{i + 1}"
        data = root / "members" / mid
        (data / "secrets").mkdir(parents=True, mode=0o700)
        for partner, file in FILES.items():
            (data / "secrets" / f"token_{file}").write_text(TOKENS[partner])
        members[mid] = {
            "config": str(ROOT / "config" / "hub" / "member.example.yml"),
            "data_dir": str(data),
            "env": {
                "YOS_PARTNERSHIP_NAME": f"{name} YJP",
                "YOS_LA_CODE": la,
                "YOS_LA_NAME": name,
                "YOS_MAIL_DOMAIN": f"{mid}.example",
                "YOS_PARTNERS_URL": url,
                "YOS_SMTP_PORT": "9",
            },  # fmt: skip
        }
    doc = {"hub": {"name": "Bench hub", "data_dir": str(root / "hub"), "work_pool": "bench-hub"},
           "partnerships": members}  # fmt: skip
    (root / "hub.yml").write_text(yaml.safe_dump(doc))
    return root / "hub.yml"


def postgres_rss_kb(svc: HubService) -> int:
    pid_file = svc.pg.data / "postmaster.pid" if svc.pg else None
    if not pid_file or not pid_file.exists():
        return 0
    return _tree_rss_kb(int(pid_file.read_text().split()[0]))


def scenario(root: Path, urls: list[str], workers: int) -> dict:
    hub = load_hub(write_hub(root, urls))
    t0 = time.monotonic()
    svc = HubService(hub, workers=workers, schedules=False, temp_postgres=True, ui=False)
    svc.start()
    try:
        startup = time.monotonic() - t0
        api = svc.api_url
        server_pid = svc.server.pid
        peaks = {"workers": 0, "server": 0, "postgres": 0, "hub_worker": 0, "watchers": 0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peaks["workers"] = max(peaks["workers"], sum(_tree_rss_kb(p.pid) for p in svc.worker_procs))
                peaks["server"] = max(peaks["server"], _tree_rss_kb(server_pid))
                peaks["postgres"] = max(peaks["postgres"], postgres_rss_kb(svc))
                peaks["watchers"] = max(peaks["watchers"], sum(_tree_rss_kb(p.pid) for p in svc.watchers.values()))
                if svc.hub_worker:
                    peaks["hub_worker"] = max(peaks["hub_worker"], _tree_rss_kb(svc.hub_worker.pid))
                time.sleep(0.1)

        deps = {d["name"]: d["id"] for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()}
        server_cpu0 = _tree_cpu_seconds(server_pid)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        started_at = dt.datetime.now(dt.UTC).isoformat()
        ids = [httpx.post(f"{api}/deployments/{deps[f'nightly-{m}']}/create_flow_run", json={}, timeout=10).json()["id"]
               for m in hub.members]  # fmt: skip
        while True:
            runs = httpx.post(f"{api}/flow_runs/filter", json={"flow_runs": {"id": {"any_": ids}}}, timeout=10).json()
            if all(r["state"]["type"] in ENDED for r in runs):
                break
            time.sleep(0.5)
        nightlies_done = time.monotonic() - started
        last_end = max(r["end_time"] for r in runs)
        while True:  # the hub warehouse rebuilt after the last nightly
            rb = httpx.post(f"{api}/flow_runs/filter", json={"deployments": {"id": {"any_": [deps["hub-rebuild"]]}},
                            "flow_runs": {"start_time": {"after_": started_at}}}, timeout=10).json()  # fmt: skip
            if rb and all(r["state"]["type"] in ENDED for r in rb) and any(r["start_time"] > last_end for r in rb):
                break
            time.sleep(0.5)
        hub_done = time.monotonic() - started
        server_cpu = _tree_cpu_seconds(server_pid) - server_cpu0
        stop.set()
        sampler.join()
        return {
            "workers": workers,
            "partnerships": len(urls),
            "states": dict(Counter(r["state"]["type"] for r in runs)),
            "wall_nightlies_s": round(nightlies_done, 1),
            "wall_to_hub_rebuilt_s": round(hub_done, 1),
            "sum_of_run_durations_s": round(sum(r["total_run_time"] for r in runs), 1),
            "hub_rebuilds": len(rb),
            "peak_rss_workers_mb": peaks["workers"] // 1024,
            "server_startup_s": round(startup, 1),
            "server_cpu_s": round(server_cpu, 1),
            "peak_rss_server_mb": peaks["server"] // 1024,
            "peak_rss_postgres_mb": peaks["postgres"] // 1024,
            "peak_rss_hub_worker_mb": peaks["hub_worker"] // 1024,
            "intake_watchers": len(svc.watchers),
            "peak_rss_intake_watchers_mb": peaks["watchers"] // 1024,
        }
    finally:
        svc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--partnerships", type=int, default=8)
    ap.add_argument("--children", type=int, default=150)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench-hub")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still stop the servers and PostgreSQL
    os.environ.setdefault("PREFECT_WORKER_QUERY_SECONDS", "2")
    os.environ.pop("PREFECT_API_URL", None)
    out = args.out.resolve()
    servers = []
    for i in range(args.partnerships):
        gen = out / "partners" / f"p{i + 1}"
        if not gen.exists():
            generate(gen, seed=100 + i, children=args.children, la_code=LAS[i % len(LAS)][0])
        servers.append(serve(gen, TOKENS))
    results = []
    try:
        for workers in (1, 2):
            run_root = out / f"workers-{workers}"
            if run_root.exists():
                import shutil

                shutil.rmtree(run_root)
            results.append(scenario(run_root, [s.url for s in servers], workers))
            print(json.dumps(results[-1]), flush=True)
    finally:
        for s in servers:
            s.shutdown()


if __name__ == "__main__":
    main()
