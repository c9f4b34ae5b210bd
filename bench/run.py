"""Speed and memory, measured side by side (`make bench`; `python bench/run.py --police-rows N`).

One synthetic partnership is scaled to ``--police-rows`` police outcome rows (every other feed in proportion), served
over the local partner endpoints, and loaded three ways, each in its own process with its wall time, CPU time (user
and system) and peak RSS (the whole process tree) measured:

  (a) the floor: DuckDB ``read_csv`` of the same files into plain tables, nothing else;
  (b) a conventional load: pandas ``read_csv``, every column rule of the contract (required, type, codes, format,
      range, not in the future, the key unique) as GX's own pandas expectations with every failing row's index, the
      failing rows set aside and the rest written to DuckDB (no cross-column rules, pseudonyms, versions or publish:
      less than (c) does);
  (c) yos-pipeline end to end: ``yos run nightly`` (pull over HTTP, land, validate every rule with GX, quarantine,
      load versions with pseudonyms, publish, alert).

Then no-change re-runs of (c) (``--reruns``, three by default), each beside an empty Prefect flow run; (d) the next
night (1% of the copies out of every snapshot and as many in, the deltas' new rows), through ``yos run nightly``
again; where (c)'s and (d)'s time went, from the loader's ``audit.loads``; and the query time of every ``kpi`` view
on the published warehouse. Results are printed and written to
``bench/results.md``. Timing lives here, never in the test suite. ``--profile PREFIX`` runs (c) and its re-run
under pyinstrument instead, for finding where the time goes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
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
from sandbox.generate import generate  # noqa: E402
from sandbox.mailcatcher import MailCatcher  # noqa: E402

BASE_CHILDREN = 2000
# The night with changes (d): this share of the copies leaves every snapshot and as many new ones arrive, in the
# snapshots and as the delta feeds' new rows (1% of children each way: a caseload's night, not a first load).
CHANGED_SHARE = 0.01
# The copies spread over this many sets of the generated LAs (three each), 153 LAs in all: England's local
# authorities with a youth justice service, so the KPI models group as a national hub's do (copy k is LA set k mod
# LA_SETS, its children its own).
LA_SETS = 51
TOKENS = {"police": "YOS_TOKEN_POLICE", "courts": "YOS_TOKEN_COURTS", "childrens_social_care": "YOS_TOKEN_CSC",
          "yos": "YOS_TOKEN_YOS", "reference": "YOS_TOKEN_REFERENCE"}  # fmt: skip


def _tree(root: int) -> set[int]:
    """A process and all its descendants, from /proc."""
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
    return tree


def _tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except OSError:
            continue
    return total


def _tree_cpu_seconds(root: int) -> float:
    """CPU time (user and system) a running process and its live descendants have used so far."""
    total = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


# The plain line a yos command prints for each step when its output is not a terminal (partnership/progress.py)
PROGRESS_LINE = re.compile(r"^(landing|staging|validating|loading|publishing)[^:]*: [\d,]+( of [\d,]+)? \w+ in ")


def measure(args: list[str], env: dict[str, str], server: int | None = None) -> dict:
    """Run ``args``; its wall time, CPU time (user and system, of it and every process it waited for) and the peak
    RSS of its process tree, sampled every 50 ms; and the peak RSS and CPU time of the Prefect ``server`` process
    tree (pid) meanwhile."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = _tree_cpu_seconds(server) if server else 0.0
    started, started_at = time.monotonic(), time.time()
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = server_peak = 0
    out: list[str] = []
    watching = sys.stdout.isatty()  # a person at a terminal sees the run's own steps as they finish

    def read() -> None:
        for line in proc.stdout:
            out.append(line)
            if watching and PROGRESS_LINE.match(line):
                print("      " + line.rstrip(), flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    samples: list[tuple[float, float]] = []  # (epoch seconds, MB): where in the run the peak was
    while proc.poll() is None:
        rss = _tree_rss_kb(proc.pid)
        peak = max(peak, rss)
        samples.append((time.time(), rss / 1024))
        if server:
            server_peak = max(server_peak, _tree_rss_kb(server))
        time.sleep(0.05)
    reader.join()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{''.join(out)[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 1), "peak_rss_mb": round(peak / 1024, 1),
            "output": "".join(out), "server_peak_rss_mb": round(server_peak / 1024, 1),
            "server_cpu_seconds": round(_tree_cpu_seconds(server) - server_cpu, 1) if server else None,
            "started_at": started_at, "finished_at": started_at + wall, "samples": samples}  # fmt: skip


def start_prefect_server(work: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, float]:
    """A Prefect server on a free loopback port, as ``yos serve`` runs one; its API URL and start-up seconds."""
    from partnership.processes import wait_healthy

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


def changed_copies(factor: int) -> int:
    """How many copies leave each snapshot on the next night (d), and how many arrive."""
    return max(1, round(factor * CHANGED_SHARE))


def scale(base: Path, out: Path, factor: int, changed: int = 0) -> dict[str, int]:
    """Every feed of ``base`` repeated ``factor`` times with identifiers made unique per copy (DuckDB COPY).

    With ``changed`` (a number of copies), the next night's extracts instead: each snapshot feed without its first
    ``changed`` copies (those children's rows are gone) and with as many new ones; each delta feed only the new
    copies' rows. Reference data and board attendance are not written (unchanged, their pulls answer 304)."""
    import duckdb

    con = duckdb.connect()
    rows = {}
    for feed, c in all_contracts().items():
        src = base / c.partner / f"{feed}.csv"
        dest = out / c.partner / f"{feed}.csv"
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Copy k's LAs are LA set k mod LA_SETS (set 0 the generated ones, the partnership's LA among them), so the
        # KPI models group as they would at a national hub, not one LA's sums over every copy; the population
        # table gets each set's LAs, its population times the copies in the set. Other reference data (national
        # comparators) is national already, and a partnership's board meets as often whatever its size: both are
        # sent as generated (copies of board meetings would repeat their key and be quarantined).
        if (c.partner == "reference" and feed != "population_10_17") or feed == "board_attendance":
            if changed:
                continue
            first, last = 0, 1
        elif feed == "population_10_17":  # sent once: every LA of the first night's copies and of the next night's
            if changed:
                continue
            first, last = 0, min(LA_SETS, factor + changed_copies(factor))
        elif not changed:
            first, last = 0, factor
        elif c.kind == "snapshot":
            first, last = changed, factor + changed
        else:
            first, last = factor, factor + changed
        cols = []
        for name, col in c.columns.items():
            q = f'"{name}"'
            if last == 1:
                expr = q
            elif feed == "population_10_17" and name == "population":
                expr = f"{q}::bigint * (({factor + changed_copies(factor)} - k + {LA_SETS - 1}) // {LA_SETS})"
            elif col.identifier == "pnc":  # keep the PNC format: shift the serial digits per copy
                expr = (f"case when {q} is null then null else left({q}, 3) || lpad(((substr({q}, 4, 7)::bigint "
                        f"+ k * 7919) % 10000000)::varchar, 7, '0') || right({q}, 1) end")  # fmt: skip
            elif (
                col.format is not None and col.format.name == "ons_la"
            ):  # E06000015 -> E06000032 in copy 1: distinct per LA set, still a code
                expr = (f"case when {q} is null then null else left({q}, 3) || lpad(((substr({q}, 4, 6)::bigint "
                        f"+ (k % {LA_SETS}) * 17) % 1000000)::varchar, 6, '0') end")  # fmt: skip
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
                      auto_detect = false, delim = ',', quote = '"'), range({first}, {last}) t(k))
                to '{dest}' (header, delimiter ',')"""
        )
        rows[feed] = con.execute(f"select count(*) from read_csv('{dest}', header = true)").fetchone()[0]
    if not changed:
        (out / "manifest.json").write_text((base / "manifest.json").read_text())
    return rows


def stages(run: dict, data: Path) -> dict:
    """Where a nightly run's time went, from the loader's own record (``audit.loads``) and the published file's
    time: before the first load (pulls and landing), loading (stage, validate, load), publishing, and the rest
    (board pack, alerts, the flow's end); with the rows and versions its loads recorded."""
    import duckdb

    con = duckdb.connect(str(data / "warehouse" / "loader.duckdb"), read_only=True)
    first, last, received, added, replaced, quarantined = con.execute(
        """select epoch(min(started_at)), epoch(max(finished_at)), sum(rows_received), sum(versions_added),
                  sum(versions_replaced), sum(rows_quarantined)
           from audit.loads where epoch(started_at) between ? and ? and status = 'loaded'""",
        [run["started_at"], run["finished_at"]],
    ).fetchone()
    con.close()
    if first is None:
        return {}
    published = (data / "yos.duckdb").stat().st_mtime
    bounds = {"before_loading": (run["started_at"], first), "loading": (first, last), "publishing": (last, published),
              "after": (published, run["finished_at"])}  # fmt: skip
    peaks = {step: round(max((mb for t, mb in run["samples"] if start <= t <= end), default=0.0))
             for step, (start, end) in bounds.items()}  # fmt: skip
    return {"before_loading": round(first - run["started_at"], 1), "loading": round(last - first, 1),
            "publishing": round(published - last, 1), "after": round(run["finished_at"] - published, 1),
            "received": int(received), "added": int(added), "replaced": int(replaced),
            "quarantined": int(quarantined), "peaks": peaks}  # fmt: skip


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
    changed = changed_copies(factor)
    next_night = work / "next-night"
    next_rows = scale(base, next_night, factor, changed=changed)
    print(f"  the next night: {changed} of {factor} copies leave each snapshot and {changed} arrive "
          f"({sum(next_rows.values()):,} rows in {len(next_rows)} changed feeds)", flush=True)  # fmt: skip

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
        results["c_stages"] = stages(results["c"], work / "data")
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
        # The next night: the partners' changed extracts replace the first night's (the stand-in server sees new
        # files and answers 200 with new ETags) and the nightly run compares, versions and publishes them.
        for path in next_night.rglob("*.csv"):
            os.replace(path, partners / path.relative_to(next_night))
        print("(d) yos-pipeline, the next night with changes: yos run nightly ...", flush=True)
        results["d"] = measure([str(BIN / "yos"), "run", "nightly"], env, server=prefect_server.pid)
        results["d_stages"] = stages(results["d"], work / "data")
        results["changed"], results["factor"] = changed, factor
        results["server_start"] = server_start
    finally:
        for proc in (server, prefect_server):
            proc.terminate()
            proc.wait()
        catcher.__exit__(None, None, None)
    queries = measure([sys.executable, str(HERE / "queries.py"), str(work / "data" / "yos.duckdb")], env)
    kpi_times = json.loads(queries["output"].strip().splitlines()[-1])
    write_results(opts, rows, size_mb, results, kpi_times)


def _split(st: dict) -> str:
    if not st:
        return "(no load recorded)"
    pk = st["peaks"]
    return (f"{st['before_loading']} s pulling and landing, {st['loading']} s loading (stage, validate, load), "
            f"{st['publishing']} s publishing, {st['after']} s board pack, alerts and the flow's end; peak RSS in "
            f"each: {pk['before_loading']:,}, {pk['loading']:,}, {pk['publishing']:,} and {pk['after']:,} MB")  # fmt: skip


def _code_version() -> str:
    """The commit measured, marked when the working tree differs from it (a run of uncommitted code)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "an unknown commit"
    return f"commit {commit}" + (
        " with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    )


def write_results(opts: argparse.Namespace, rows: dict, size_mb: float, r: dict, kpi_times: dict) -> None:
    a, b, c, d = r["a"], r["b"], r["c"], r["d"]
    beyond = ", ".join(f"{x['seconds']} - {y['seconds']} = {x['seconds'] - y['seconds']:.1f} s" for x, y in r["reruns"])
    with open("/proc/meminfo") as f:
        mem_gb = int(f.readline().split()[1]) / 1024**2
    cores = os.cpu_count() or 1
    machine = f"{cores} cores, {mem_gb:.0f} GB RAM, {platform.machine()}, Python {platform.python_version()}"
    ds = r["d_stages"]
    code = _code_version()

    def row(label: str, m: dict) -> str:
        return f"| {label} | {m['seconds']} | {m['cpu_seconds']} | {m['peak_rss_mb']} |"

    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC} on {machine}, by `python bench/run.py "
        f"--police-rows {opts.police_rows}`, code at {code}. Written by the bench and replaced by its next run; "
        "earlier runs and what each change was measured to do are in `bench/NOTES.md`.",
        "",
        f"Input: {sum(rows.values()):,} rows in {len(rows)} feeds ({rows['police_outcomes']:,} police outcome rows), "
        f"{size_mb:,.0f} MB of CSV, served over HTTP on 127.0.0.1.",
        "",
        "| run | wall time (s) | CPU time (s) | peak RSS (MB) |",
        "|---|---:|---:|---:|",
        row("(a) floor: DuckDB read_csv into plain tables", a),
        row("(b) pandas + GX pandas datasource (the contract's column rules, failing rows set aside) + DuckDB", b),
        row("(c) yos-pipeline end to end (`yos run nightly`)", c),
        row(f"(c) again with nothing new (all 304; median of {opts.reruns})", r["rerun"]),
        row("Prefect start-up alone (empty flow run just after it)", r["prefect"]),
        row(f"(d) the next night ({r['changed']} of {r['factor']} copies out of each snapshot, {r['changed']} in)", d),
        f"| the Prefect server (`prefect server start`, up before (c)) | {r['server_start']} to start | "
        f"{c['server_cpu_seconds']} during (c) | {c['server_peak_rss_mb']} during (c) |",
        "",
        "(c) runs against a Prefect server already up, as under `yos serve`; the server is measured on its own row. "
        "CPU time is user and system time of the run's processes; the machine has "
        f"{cores} cores, so a run that keeps them busy uses {cores} CPU seconds per second.",
        "",
        f"- (c)/(a) = **{c['seconds'] / a['seconds']:.1f}x** (target: at most 2.5x); in CPU time "
        f"{c['cpu_seconds'] / a['cpu_seconds']:.1f}x",
        f"- (b)/(c) = **{b['seconds'] / c['seconds']:.1f}x** (target: at least 5x); in CPU time "
        f"{b['cpu_seconds'] / c['cpu_seconds']:.1f}x",
        f"- peak RSS of (c): **{c['peak_rss_mb']:.0f} MB** (target: at most 1,536 MB); with the server: "
        f"{c['peak_rss_mb'] + c['server_peak_rss_mb']:.0f} MB",
        f"- no-change re-run beyond Prefect's start-up: **{r['rerun']['seconds'] - r['prefect']['seconds']:.1f} s** "
        f"(target: within 3 s), the median of {beyond}",
        f"- (c), where the time went: {_split(r['c_stages'])}",
        f"- (d), where the time went: {_split(ds)}",
    ]
    if ds:
        lines.append(
            f"- (d) received {ds['received']:,} rows, quarantined {ds['quarantined']:,}, added {ds['added']:,} "
            f"versions and replaced or withdrew {ds['replaced']:,}"
        )
    lines += [
        "",
        "Query time of every `kpi` view on the published warehouse after (d) (target: each under 1 s):",
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
