"""Manual backfill: run a feed's landed extracts (optionally only those whose period ends within a window) through
validation and loading again, from the landing zone: after a contract fix, say, so that rows or extracts refused
before are looked at again. Versions make it safe: unchanged rows add nothing, and an older extract never replaces
newer data."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from flows.run_loads import run_loads
from flows.steps import Pipeline


@flow(name="backfill", flow_run_name="backfill {feed}")
def backfill(feed: str, period_from: dt.date | None = None, period_to: dt.date | None = None) -> list[dict]:
    with Pipeline() as p:
        extracts = p.landed(feed, period_from, period_to)
    return run_loads(extracts, again=True).loads
