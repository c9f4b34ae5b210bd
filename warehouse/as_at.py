"""Reading the warehouse as it stood after an earlier load.

Every ``core`` view (and so every model built on it) shows the row versions that were current after load
``getvariable('as_at_load')``, or the latest when the variable is unset. A quarterly return sent to the YJB after
load N can therefore be reproduced exactly after later corrections arrive."""

from __future__ import annotations

import datetime as dt

import duckdb


class AsAtError(ValueError):
    """The load or date asked for does not name a load in this warehouse."""


def resolve(con: duckdb.DuckDBPyConnection, as_at: str) -> int:
    """A load id from ``as_at``: a load id, or a date (the last load finished on or before the end of that day)."""
    if as_at.isdigit():
        load = con.execute("select load_id from audit.loads where load_id = ?", [int(as_at)]).fetchone()
        if not load:
            raise AsAtError(f"there is no load {as_at}; see `select load_id, feed, finished_at from audit.loads`")
        return load[0]
    try:
        day = dt.date.fromisoformat(as_at)
    except ValueError as e:
        raise AsAtError(f"--as-at takes a load id or a date YYYY-MM-DD, not {as_at!r}") from e
    load = con.execute(
        "select max(load_id) from audit.loads where finished_at < ?",
        [dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)],
    ).fetchone()[0]
    if load is None:
        raise AsAtError(f"no load had finished by the end of {day.isoformat()}")
    return load


def set_as_at(con: duckdb.DuckDBPyConnection, load_id: int | None) -> None:
    if load_id is None:
        con.execute("reset variable as_at_load")
    else:
        con.execute(f"set variable as_at_load = {int(load_id)}")
