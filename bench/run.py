"""Speed and memory, measured side by side (`make bench`; `python bench/run.py --police-rows N`).

One synthetic partnership is scaled to ``--police-rows`` police outcome rows (every other feed in proportion), served
over the local partner endpoints, and loaded three ways, each in its own process with its peak RSS (the whole
process tree) and wall time measured:

  (a) the floor: DuckDB ``read_csv`` of the same files into plain tables, nothing else;
  (b) a conventional load: pandas ``read_csv``, every column rule of the contract (required, type, codes, format,
      range, not in the future, the key unique) as GX's own pandas expectations with every failing row's index, the
      failing rows set aside and the rest written to DuckDB (no cross-column rules, pseudonyms, versions or publish:
      less than (c) does);
  (c) yos-pipeline end to end: ``yos run nightly`` (pull over HTTP, land, validate every rule with GX, quarantine,
      load versions with pseudonyms, publish, alert).

Then no-change re-runs of (c) (``--reruns``, three by default), each beside an empty Prefect flow run, and the
query time of every ``kpi`` view on the published warehouse. Results are printed and written to
``bench/results.md``. Timing lives here, never in the test suite. ``--profile PREFIX`` runs (c) and its re-run
under pyinstrument instead, for finding where the time goes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from expectations.contract import all_contracts  # noqa: E402
from yos.alerts.mailcatcher import MailCatcher  # noqa: E402
from yos.synthetic.generate import generate  # noqa: E402

BASE_CHILDREN = 2000
TOKENS = {"police": "YOS_TOKEN_POLICE", "courts": "YOS_TOKEN_COURTS", "childrens_social_care": "YOS_TOKEN_CSC",
          "yos": "YOS_TOKEN_YOS", "reference": "YOS_TOKEN_REFERENCE"}  # fmt: skip


def _tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == pid and p not in tree]
        tree.update(kids)
        frontier.extend(kids)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except OSError:
            continue
    return total


def measure(args: list[str], env: dict[str, str], server: int | None = None) -> dict:
    """Run ``args``; wall time and peak RSS of its process tree, sampled every 50 ms, and the peak RSS of the
    Prefect ``server`` process tree (pid) meanwhile."""
    started = time.monotonic()
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = server_peak = 0
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        if server:
            server_peak = max(server_peak, _tree_rss_kb(server))
        time.sleep(0.05)
    reader.join()
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{''.join(out)[-3000:]}")
    return {"seconds": round(wall, 2), "peak_rss_mb": round(peak / 1024, 1), "output": "".join(out),
            "server_peak_rss_mb": round(server_peak / 1024, 1)}  # fmt: skip


def start_prefect_server(work: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, float]:
    """A Prefect server on a free loopback port, as ``yos serve`` runs one; its API URL and start-up seconds."""
    from yos.serve import wait_healthy

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = work / "prefect-server"
    home.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api"
    wait_healthy(api, proc=proc)
    return proc, api, round(time.monotonic() - started, 2)


def scale(base: Path, out: Path, factor: int) -> dict[str, int]:
    """Every feed of ``base`` repeated ``factor`` times with identifiers made unique per copy (DuckDB COPY)."""
    import duckdb

    con = duckdb.connect()
    rows = {}
    for feed, c in all_contracts().items():
        src = base / c.partner / f"{feed}.csv"
        dest = out / c.partner / f"{feed}.csv"
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Reference data is national already, and a partnership's board meets as often whatever its size: both are
        # sent as generated (copies of board meetings would repeat their key and be quarantined).
        copies = 1 if c.partner == "reference" or feed == "board_attendance" else factor
        cols = []
        for name, col in c.columns.items():
            q = f'"{name}"'
            if copies == 1:
                expr = q
            elif col.identifier == "pnc":  # keep the PNC format: shift the serial digits per copy
                expr = (f"case when {q} is null then null else left({q}, 3) || lpad(((substr({q}, 4, 7)::bigint "
                        f"+ k * 7919) % 10000000)::varchar, 7, '0') || right({q}, 1) end")  # fmt: skip
            elif col.identifier == "upn":
                expr = f"case when {q} is null then null else left({q}, 1) || lpad(((substr({q}, 2, 11)::bigint + k * 104729) % 100000000000)::varchar, 11, '0') || right({q}, 1) end"
            elif (
                col.identifier
                or name in c.key
                and col.type == "text"
                or name in ("intervention_id", "linked_outcome_id", "linked_disposal_id")
            ):
                expr = f"case when {q} is null then null else {q} || 'x' || k end"
            else:
                expr = q
            cols.append(f"{expr} as {q}")
        columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in c.columns) + "}"
        con.execute(
            f"""copy (select {", ".join(cols)} from read_csv('{src}', header = true, columns = {columns},
                      auto_detect = false, delim = ',', quote = '"'), range({copies}) t(k))
                to '{dest}' (header, delimiter ',')"""
        )
        rows[feed] = con.execute(f"select count(*) from read_csv('{dest}', header = true)").fetchone()[0]
    (out / "manifest.json").write_text((base / "manifest.json").read_text())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--police-rows", type=int, default=5_000_000)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    parser.add_argument("--results", type=Path, default=HERE / "results.md")
    parser.add_argument("--reruns", type=int, default=3, help="No-change re-runs, each beside an empty flow run; "
                        "the median is reported (default 3).")  # fmt: skip
    parser.add_argument(
        "--profile",
        type=Path,
        help="Instead of measuring: run (c) and its no-change re-run under pyinstrument and write the two call-tree "
        "profiles to PROFILE-c.txt and PROFILE-rerun.txt.",
    )
    opts = parser.parse_args()
    if opts.reruns < 1:
        parser.error("--reruns must be at least 1")
    work = opts.work
    if work.exists():
        import shutil

        shutil.rmtree(work)
    base, partners = work / "base", work / "partners"

    print(f"generating a partnership scaled to {opts.police_rows:,} police outcome rows ...", flush=True)
    manifest = generate(base, seed=1, children=BASE_CHILDREN, years=3)
    factor = max(1, round(opts.police_rows / manifest["feeds"]["police_outcomes"]["rows"]))
    rows = scale(base, partners, factor)
    size_mb = sum(p.stat().st_size for p in partners.rglob("*.csv")) / 1e6
    print(f"  {sum(rows.values()):,} rows in {len(rows)} feeds, {size_mb:,.0f} MB of CSV", flush=True)

    env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "GX_ANALYTICS_ENABLED": "false", "YOS_PSEUDONYM_KEY": secrets.token_hex(16),
           "YOS_DATA_DIR": str(work / "data")}  # fmt: skip
    for var in TOKENS.values():
        env[var] = secrets.token_hex(8)
    env.pop("PREFECT_API_URL", None)
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen([str(BIN / "yos"), "partners", "serve", "--from", str(partners), "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    env["YOS_PARTNERS_URL"] = f"http://127.0.0.1:{port}"
    catcher = MailCatcher(work / "mail").__enter__()  # the alerts go to a real SMTP server, as in production
    env["YOS_SMTP_HOST"], env["YOS_SMTP_PORT"] = "127.0.0.1", str(catcher.port)
    time.sleep(2)
    # The nightly flow runs against a Prefect server that is already up, as under `yos serve` in production; the
    # server's start-up time and memory are measured and reported beside (c), not inside it.
    prefect_server, env["PREFECT_API_URL"], server_start = start_prefect_server(work, env)
    try:
        if opts.profile:
            for name in ("c", "rerun"):
                out = opts.profile.with_name(f"{opts.profile.name}-{name}.txt")
                print(f"profiling ({name}) into {out} ...", flush=True)
                measure([str(BIN / "pyinstrument"), "-r", "text", "--show-all", "-o", str(out),
                         str(BIN / "yos"), "run", "nightly"], env)  # fmt: skip
            return
        results = {}
        print("(a) floor: DuckDB read_csv into plain tables ...", flush=True)
        results["a"] = measure([sys.executable, str(HERE / "floor.py"), str(partners), str(work / "floor.duckdb")], env)
        print("(b) conventional: pandas + GX pandas datasource + DuckDB ...", flush=True)
        results["b"] = measure([sys.executable, str(HERE / "conventional.py"), str(partners),
                                str(work / "conventional.duckdb")], env)  # fmt: skip
        print("(c) yos-pipeline: yos run nightly ...", flush=True)
        results["c"] = measure([str(BIN / "yos"), "run", "nightly"], env, server=prefect_server.pid)
        # A no-change re-run comes the next night, not while the kernel is still writing (c)'s gigabytes back to
        # disk: sync first. Each re-run is paired with an empty flow run just after it (Prefect's own start-up, on
        # the same machine at the same moment); the median pair is reported, every pair listed.
        os.sync()
        results["reruns"] = []
        for i in range(1, opts.reruns + 1):
            print(f"    again with nothing new ({i}/{opts.reruns}), then an empty flow run ...", flush=True)
            rerun = measure([str(BIN / "yos"), "run", "nightly"], env, server=prefect_server.pid)
            prefect = measure([sys.executable, "-c", "from prefect import flow\n@flow\ndef f(): pass\nf()"], env)
            results["reruns"].append((rerun, prefect))
        results["reruns"].sort(key=lambda pair: pair[0]["seconds"] - pair[1]["seconds"])
        results["rerun"], results["prefect"] = results["reruns"][len(results["reruns"]) // 2]
        results["server_start"] = server_start
    finally:
        for proc in (server, prefect_server):
            proc.terminate()
            proc.wait()
        catcher.__exit__(None, None, None)
    queries = measure([sys.executable, str(HERE / "queries.py"), str(work / "data" / "yos.duckdb")], env)
    kpi_times = json.loads(queries["output"].strip().splitlines()[-1])
    write_results(opts, rows, size_mb, results, kpi_times)


def write_results(opts: argparse.Namespace, rows: dict, size_mb: float, r: dict, kpi_times: dict) -> None:
    a, b, c = r["a"], r["b"], r["c"]
    beyond = ", ".join(f"{x['seconds']} - {y['seconds']} = {x['seconds'] - y['seconds']:.1f} s" for x, y in r["reruns"])
    with open("/proc/meminfo") as f:
        mem_gb = int(f.readline().split()[1]) / 1024**2
    machine = (f"{os.cpu_count()} cores, {mem_gb:.0f} GB RAM, {platform.machine()}, Python "
               f"{platform.python_version()}")  # fmt: skip
    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC} on {machine}, by `python bench/run.py "
        f"--police-rows {opts.police_rows}`.",
        "",
        f"Input: {sum(rows.values()):,} rows in {len(rows)} feeds ({rows['police_outcomes']:,} police outcome rows), "
        f"{size_mb:,.0f} MB of CSV, served over HTTP on 127.0.0.1.",
        "",
        "| run | wall time (s) | peak RSS (MB) |",
        "|---|---:|---:|",
        f"| (a) floor: DuckDB read_csv into plain tables | {a['seconds']} | {a['peak_rss_mb']} |",
        f"| (b) pandas + GX pandas datasource (the contract's column rules, failing rows set aside) + DuckDB | "
        f"{b['seconds']} | {b['peak_rss_mb']} |",
        f"| (c) yos-pipeline end to end (`yos run nightly`) | {c['seconds']} | {c['peak_rss_mb']} |",
        f"| (c) again with nothing new (all 304; median of {opts.reruns}) | {r['rerun']['seconds']} | "
        f"{r['rerun']['peak_rss_mb']} |",
        f"| Prefect start-up alone (empty flow run just after it) | {r['prefect']['seconds']} | "
        f"{r['prefect']['peak_rss_mb']} |",
        f"| the Prefect server (`prefect server start`, up before (c)) | {r['server_start']} to start | "
        f"{c['server_peak_rss_mb']} during (c) |",
        "",
        "(c) runs against a Prefect server already up, as under `yos serve`; the server is measured on its own row.",
        "",
        f"- (c)/(a) = **{c['seconds'] / a['seconds']:.1f}x** (target: at most 2.5x)",
        f"- (b)/(c) = **{b['seconds'] / c['seconds']:.1f}x** (target: at least 5x)",
        f"- peak RSS of (c): **{c['peak_rss_mb']:.0f} MB** (target: at most 1,536 MB); with the server: "
        f"{c['peak_rss_mb'] + c['server_peak_rss_mb']:.0f} MB",
        f"- no-change re-run beyond Prefect's start-up: **{r['rerun']['seconds'] - r['prefect']['seconds']:.1f} s** "
        f"(target: within 3 s), the median of {beyond}",
        "",
        "Query time of every `kpi` view on the published warehouse (target: each under 1 s):",
        "",
        "| view | seconds |",
        "|---|---:|",
        *[f"| `kpi.{v}` | {t} |" for v, t in kpi_times.items()],
        "",
    ]
    text = "\n".join(lines)
    opts.results.write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
