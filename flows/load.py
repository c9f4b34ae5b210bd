"""Load what has landed: the deployment that an arriving extract triggers (event ``yos.extract.landed``), so an
extract is loaded because it arrived, not only at 02:00. It loads every landed extract of the feed not yet loaded
(events may be coalesced; a crash may have left one), publishes and alerts, through
:func:`flows.run_loads.run_loads`. DuckDB has one writer, so while another run holds the warehouse this one waits
and retries."""

from __future__ import annotations

from prefect import flow

from flows.run_loads import run_loads
from flows.steps import Pipeline


@flow(name="load-landed", flow_run_name="load landed {feed}", retries=40, retry_delay_seconds=15)
def load_landed(feed: str | None = None) -> list[dict]:
    with Pipeline() as p:
        pending = [e for e in p.pending() if feed is None or e.feed == feed]
    return run_loads(pending).loads if pending else []
