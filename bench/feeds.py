"""Where loading's time goes, feed by feed: after a bench run (``bench/run.py``), each extract its first night landed
is staged, validated and loaded again, one at a time, in a fresh loader, through the same path as ``yos run
nightly`` (``warehouse.load.load_extract``), with each step timed:

    python bench/feeds.py [--work bench/out] [--pseudonym-cost] [--next-night [--days-later N]] [FEED ...]

``--next-night`` loads each feed's first-night extract untimed, then times the extract the bench's next night (d)
landed for it, as the next night loads it (what is remembered of the first: :mod:`warehouse.unchanged_rows`). The
bench lands both nights on one day; ``--days-later N`` takes the next night's extracts as received N days after the
first's, as a real night's are (its dates not in the future are checked against another day).

Validation is split into GX's suite (its import included, on the first feed) and the rules' own SQL, which finds
the failing rows. ``--pseudonym-cost`` also times, on each staged extract, computing the stored rows with their
HMAC pseudonyms, with the identifiers as sent, and with the key and row hashes loading adds, twice each.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import duckdb  # noqa: E402

from expectations import validate as validation  # noqa: E402
from expectations.contract import Contract, get_contract  # noqa: E402
from warehouse import load as path  # noqa: E402
from warehouse import loading, staging  # noqa: E402
from warehouse.db import connect_loader  # noqa: E402
from warehouse.landing import Extract  # noqa: E402
from warehouse.pseudonymise import install  # noqa: E402

SPENT: dict[str, float] = {}
PEAK: dict[str, float] = {}  # the process's highest resident memory (MB) seen during each step
RUNNING: list[str] = []  # the steps running now, innermost last
STEPS = ("total", "stage", "unchanged", "validate", "GX", "rules' SQL", "load", "remember")
KEY = "k" * 32  # a pseudonym key for the fresh loader; the cost does not depend on it


def steps(spent: dict[str, float]) -> str:
    """One line of seconds per step."""
    return "  ".join(f"{step} {spent.get(step, 0.0):5.1f}" for step in STEPS)


def peaks(peak: dict[str, float]) -> str:
    """One line of the peak resident memory (MB) seen in each step."""
    return "  ".join(f"{step} {peak[step]:5.0f}" for step in STEPS if step in peak)


def sample_memory() -> None:
    """Forever, every 50 ms: the process's resident memory, as the peak of the steps running now."""
    while True:
        with open("/proc/self/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
        for step in [*RUNNING, "total"]:
            PEAK[step] = max(PEAK.get(step, 0.0), rss)
        time.sleep(0.05)


def timed(module: object, name: str, label: str) -> None:
    """Replace ``module.name`` with a wrapper that adds its time to ``SPENT[label]``."""
    inner: Callable = getattr(module, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        RUNNING.append(label)
        try:
            return inner(*args, **kwargs)
        finally:
            RUNNING.remove(label)
            SPENT[label] = SPENT.get(label, 0.0) + time.perf_counter() - started

    setattr(module, name, wrapper)


def night(data: Path, n: int) -> list[Extract]:
    """The extracts of the bench's ``n``-th night that landed one for their feed (1: the first night (c), 2: the next
    night (d)): the ``n``-th loaded extract of each feed, in the order they were loaded."""
    con = duckdb.connect(str(data / "warehouse" / "loader.duckdb"), read_only=True)
    rows = con.execute(
        """select e.extract_id, e.feed, e.partner, e.sha256, e.bytes, e.source, e.received_at
           from landing.extracts e join (
               select extract_id, load_id, row_number() over (partition by feed order by load_id) as night
               from audit.loads where status = 'loaded') l using (extract_id)
           where l.night = ? order by l.load_id""",
        [n],
    ).fetchall()
    con.close()
    return [
        Extract(extract_id=i, feed=f, partner=p, sha256=s, bytes=b, source=src, original_name=None,
                path=data / "landing" / f / f"{s}.csv", received_at=at)
        for i, f, p, s, b, src, at in rows
    ]  # fmt: skip


def pseudonym_cost(con: duckdb.DuckDBPyConnection, contract: Contract, extract: Extract) -> str:
    """Seconds to compute the stored rows of ``extract`` three ways, twice each (it is staged again for this)."""
    staged = staging.stage(con, contract, extract.path, 0)
    stored = loading.stored_columns(contract)
    names = [n for n, _, _ in stored]
    sent = ", ".join(f'"{n}"' if contract.columns.get(n) and contract.columns[n].identifier else f'{e} as "{n}"'
                     for n, _, e in stored)  # fmt: skip
    pseudonymised = ", ".join(f'{e} as "{n}"' for n, _, e in stored)
    key = f"md5({loading.hashed_text([n for n in names if n in contract.key], '')})"
    row = f"md5({loading.hashed_text(names, '~')})"
    every = "concat_ws(',', *columns(*))"  # reads every column, so none is left uncomputed
    ways = {
        "as sent": (every, sent),
        "pseudonymised": (every, pseudonymised),
        "with hashes": (f"{key} || {row}", pseudonymised),
    }
    spent = {}
    for way, (measure, columns) in ways.items():
        query = f"select max(length({measure})) from (select {columns} from {staged.table})"
        runs = []
        for _ in range(2):
            started = time.perf_counter()
            con.execute(query).fetchall()
            runs.append(time.perf_counter() - started)
        spent[way] = "/".join(f"{t:.1f}" for t in runs)
    staging.drop(con, 0)
    return "  stored rows: " + ", ".join(f"{way} {t} s" for way, t in spent.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("feeds", nargs="*", help="only these feeds (default: every feed)")
    parser.add_argument("--work", type=Path, default=HERE / "out", help="the bench run's --work (default bench/out)")
    parser.add_argument("--pseudonym-cost", action="store_true")
    parser.add_argument("--next-night", action="store_true", help="time the next night's extracts (see above)")
    parser.add_argument("--days-later", type=int, default=0, help="the next night received this many days later")
    opts = parser.parse_args()
    timed(path.staging, "stage", "stage")
    timed(path.unchanged_rows, "prepare", "unchanged")
    timed(path.unchanged_rows, "remember", "remember")
    timed(path, "validate", "validate")
    timed(validation, "run_suite", "GX")
    timed(path.loading, "load", "load")
    threading.Thread(target=sample_memory, daemon=True).start()
    log = logging.getLogger("bench.feeds")
    totals: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        con = connect_loader(Path(scratch) / "loader.duckdb")
        data = opts.work / "data"
        before = night(data, 1) if opts.next_night else []
        for extract in before:
            if not opts.feeds or extract.feed in opts.feeds:
                path.load_extract(con, extract, pseudonym_key=KEY, pseudonym_key_version=1, logger=log)
        for extract in night(data, 2 if opts.next_night else 1):
            if opts.feeds and extract.feed not in opts.feeds:
                continue
            extract = dataclasses.replace(extract, received_at=extract.received_at + dt.timedelta(days=opts.days_later))
            SPENT.clear()
            PEAK.clear()
            started = time.perf_counter()
            path.load_extract(con, extract, pseudonym_key=KEY, pseudonym_key_version=1, logger=log)
            SPENT["total"] = time.perf_counter() - started
            SPENT["rules' SQL"] = SPENT.get("validate", 0.0) - SPENT.get("GX", 0.0)
            for step, seconds in SPENT.items():
                totals[step] = totals.get(step, 0.0) + seconds
            print(f"{extract.feed:24} {steps(SPENT)}", flush=True)
            print(f"{'  peak MB':24} {peaks(PEAK)}", flush=True)
            if opts.pseudonym_cost:
                install(con, KEY)
                print(pseudonym_cost(con, get_contract(extract.feed), extract), flush=True)
        con.close()
    print(f"{'all':24} {steps(totals)}")


if __name__ == "__main__":
    main()
