"""Load what has landed: the deployment that an arriving extract triggers (event ``yos.extract.landed``), so an
extract is loaded because it arrived, not only at 02:00. It loads every landed extract of the feed not yet loaded
(events may be coalesced; a crash may have left one), publishes and alerts. DuckDB has one writer, so while another
run holds the warehouse this one waits and retries."""

from __future__ import annotations

from prefect import flow

from flows.steps import Pipeline, new_run_id


@flow(name="load-landed", flow_run_name="load landed {feed}", retries=40, retry_delay_seconds=15)
def load_landed(feed: str | None = None) -> list[dict]:
    with Pipeline() as p:
        results = [p.load(e) for e in p.pending() if feed is None or e.feed == feed]
        if results:
            p.publish()
            p.alert(new_run_id(), results)
    return [
        {"extract_id": r.extract.extract_id, "status": r.status, "received": r.rows_received,
         "loaded": r.rows_loaded, "quarantined": r.rows_quarantined}
        for r in results
    ]  # fmt: skip
