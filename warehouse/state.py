"""The service's state, read for `yos status` and the data-quality page: each feed's loads, what is held back,
undelivered notices, and whether the published file has caught up with the loader.

The ``feed_*`` and ``*_problems`` functions take any connection to a file holding the audit tables (the analysts'
published copy or the loader's own); :func:`read_loader` opens the loader's file itself, read-only and briefly. A
load in progress holds DuckDB's lock on that file: then it says so (``busy``) instead of failing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.db import lock_holder


@dataclass(frozen=True)
class FeedLoads:
    """One feed's loads: its last good extract, and an extract held back since it (awaiting a corrected file)."""

    partner: str
    feed: str
    last_good_load: int | None
    last_good_received_at: dt.datetime | None
    held_back_load: int | None
    held_back_received_at: dt.datetime | None
    held_back_message: str | None


def feed_loads(con: duckdb.DuckDBPyConnection) -> list[FeedLoads]:
    """Every feed with a load, by partner and feed."""
    rows = con.execute(
        """with finished as (
               select l.partner, l.feed, l.load_id, l.status, l.message, e.received_at
               from audit.loads as l left join audit.extracts as e using (extract_id)
               where l.status in ('loaded', 'held_back')),
           good as (
               select partner, feed, max(load_id) as load_id, arg_max(received_at, load_id) as received_at
               from finished where status = 'loaded' group by all),
           latest as (
               select partner, feed, load_id, status, message, received_at from finished
               qualify row_number() over (partition by partner, feed order by load_id desc) = 1)
           select l.partner, l.feed, g.load_id, g.received_at,
                  if(l.status = 'held_back', l.load_id, null), if(l.status = 'held_back', l.received_at, null),
                  if(l.status = 'held_back', l.message, null)
           from latest as l left join good as g using (partner, feed)
           order by l.partner, l.feed"""
    ).fetchall()
    return [FeedLoads(*r) for r in rows]


def held_back_loads(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> dict[str, int]:
    """Extracts held back whole per feed, received since ``since``."""
    return dict(con.execute(
        """select l.feed, count(*) from audit.loads as l join audit.extracts as e using (extract_id)
           where l.status = 'held_back' and e.received_at >= ? group by all""", [since]).fetchall())  # fmt: skip


def extract_problems(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> list[tuple[str, str, str, str, str, int]]:
    """Whole-extract problems of extracts received since ``since``: (partner, feed, rule id, severity, message,
    extracts). Their messages describe the file (its encoding, its header, its size), never a row's values."""
    return con.execute(
        """select p.partner, p.feed, p.rule_id, p.severity, any_value(p.message), count(distinct p.extract_id)
           from audit.extract_problems as p join audit.extracts as e using (extract_id)
           where e.received_at >= ? group by p.partner, p.feed, p.rule_id, p.severity""",
        [since],
    ).fetchall()


def latest_finished_load(con: duckdb.DuckDBPyConnection) -> int | None:
    """The newest load that finished (loaded or held back)."""
    return con.execute("select max(load_id) from audit.loads where status in ('loaded', 'held_back')").fetchone()[0]


def undelivered_reminders(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Late-extract notices whose last attempt failed (the loader's file only: the published copy has no
    recipients or errors): (partner, feed, due time, kind, recipient, error)."""
    return con.execute(
        """select partner, feed, due_at, kind, recipient, error from audit.reminders
           qualify row_number() over (partition by feed, due_at, kind order by sent_at desc) = 1 and status = 'failed'
           order by due_at"""
    ).fetchall()


@dataclass(frozen=True)
class Undelivered:
    partner: str
    what: str  # "alert of run <id>" or "reminder for <feed> due <time>"
    recipient: str
    error: str | None


@dataclass
class LoaderState:
    """What only the loader's file knows. ``busy``: a load held the file, so nothing else was read."""

    busy: bool = False
    holder: str | None = None
    latest_load: int | None = None
    failed_loads: list[tuple[int, str, str, dt.datetime, str | None]] = field(default_factory=list)
    pending: list[tuple[str, str, dt.datetime]] = field(default_factory=list)
    undelivered: list[Undelivered] = field(default_factory=list)
    last_pull_at: dt.datetime | None = None
    failed_pulls: list[tuple[str, str, dt.datetime, str | None]] = field(default_factory=list)


def read_loader(path: Path) -> LoaderState | None:
    """The loader's state, or None when there is no loader file yet. Opens the file read-only for a moment; a
    load starting then waits and retries (its task is retried while the warehouse is busy)."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as e:
        if "lock" not in str(e):
            raise
        return LoaderState(busy=True, holder=lock_holder(e) or None)
    try:
        state = LoaderState(latest_load=latest_finished_load(con))
        # A load that never finished (killed, or failed on an error) and whose extract has not been loaded since.
        state.failed_loads = con.execute(
            """select l.load_id, l.partner, l.feed, l.started_at, l.message from audit.loads as l
               where l.status = 'failed' and not exists (
                   select 1 from audit.loads as k where k.extract_id = l.extract_id
                   and k.status in ('loaded', 'held_back') and k.load_id > l.load_id)
               order by l.load_id"""
        ).fetchall()
        state.pending = con.execute(
            """select e.partner, e.feed, e.received_at from landing.extracts as e
               where e.deleted_at is null and not exists (
                   select 1 from audit.loads as l where l.extract_id = e.extract_id
                   and l.status in ('loaded', 'held_back'))
               order by e.received_at"""
        ).fetchall()
        state.undelivered = [
            Undelivered(partner, f"alert of run {run_id} ({problems} problem(s))", recipient, error)
            for run_id, partner, recipient, problems, error in con.execute(
                """select run_id, partner, recipient, problems, error from audit.alerts
                   qualify row_number() over (partition by run_id, partner, channel, recipient order by sent_at desc)
                       = 1 and status = 'failed'
                   order by sent_at"""
            ).fetchall()
        ]
        for partner, feed, due_at, kind, recipient, error in undelivered_reminders(con):
            state.undelivered.append(
                Undelivered(partner, f"late-extract {kind} for {feed} (due {due_at:%d %b %Y %H:%M})", recipient, error)
            )
        state.last_pull_at = con.execute("select max(fetched_at) from audit.fetches").fetchone()[0]
        state.failed_pulls = con.execute(
            """select partner, feed, fetched_at, detail from audit.fetches
               qualify row_number() over (partition by partner, feed order by fetched_at desc, attempt desc) = 1
                   and outcome = 'failed'
               order by partner, feed"""
        ).fetchall()
        return state
    finally:
        con.close()


def held_back_feeds(
    con: duckdb.DuckDBPyConnection,
) -> list[tuple[str, str, dt.datetime | None, dt.datetime | None, str]]:
    """Each feed whose latest extract was held back: (feed, partner, when one last loaded, held back since, why)."""
    return con.execute(
        """with ordered as (
               select feed, partner, status, finished_at, message,
                      max(finished_at) filter (where status = 'loaded')
                          over (partition by feed) as last_loaded,
                      row_number() over (partition by feed order by finished_at desc, load_id desc) as recency
               from audit.loads where status in ('loaded', 'held_back')
           )
           select feed, any_value(partner), any_value(last_loaded),
                  min(finished_at) filter (where status = 'held_back'
                                           and (last_loaded is null or finished_at > last_loaded)),
                  arg_max(message, finished_at) filter (where status = 'held_back')
           from ordered
           group by feed
           having bool_or(recency = 1 and status = 'held_back')"""
    ).fetchall()
