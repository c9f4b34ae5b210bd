"""Load one file for one feed through the same path as the nightly run (used by the event-driven deployment and by
``yos load --prefect``)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from yos.pipeline import Pipeline, new_run_id


@flow(name="load-file", flow_run_name="load {feed}")
def load_file(feed: str, path: str, alert: bool = True) -> dict:
    with Pipeline() as p:
        extract = p.land_file(feed, Path(path))
        result = p.load(extract)
        p.publish()
        alerts = p.alert(new_run_id(), [result]) if alert else []
    return {
        "extract_id": extract.extract_id,
        "status": result.status,
        "received": result.rows_received,
        "loaded": result.rows_loaded,
        "quarantined": result.rows_quarantined,
        "alerts": alerts,
    }
