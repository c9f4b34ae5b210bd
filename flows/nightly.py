"""The nightly load: pull every configured feed, then :func:`flows.run_loads.run_loads` (load what arrived, publish,
write the board pack, alert partners).

A feed that cannot be fetched (after the client's own retries) fails its task and the run goes on with the others;
the flow reports it and ends failed so that the operator sees it, while the data that did arrive is loaded and
published.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows import tasks
from flows.run_loads import run_loads
from flows.steps import Pipeline
from partners.http import FetchError


@flow(name="nightly", log_prints=True)
def nightly(partners: list[str] | None = None) -> dict:
    """Pull every feed of every configured partner (or only ``partners``), load, publish and alert."""
    logger = get_run_logger()
    failures: list[FetchError] = []
    with Pipeline() as p:
        feeds = [(pid, feed) for pid, partner in p.cfg.partners.items() for feed in partner.feeds]
    for partner_id, feed in feeds:
        if partners and partner_id not in partners:
            continue
        try:
            tasks.pull(partner_id, feed)
        except FetchError as e:
            failures.append(e)
    # Load everything landed and not yet loaded, oldest period first: this run's arrivals, and any extract an
    # interrupted run landed but never loaded (its partner would now answer 304).
    with Pipeline() as p:
        pending = [e for e in p.pending() if not partners or e.partner in partners]
    run = run_loads(pending, every_night=True)
    for f in failures:
        logger.error("[%s/%s] not fetched: %s", f.partner, f.feed, f)
    summary = {
        "run_id": run.run_id,
        "published": run.published or str(p.paths.published_db),
        "board_pack": run.board_pack,
        "loads": run.loads,
        "alerts": run.alerts,
        "fetch_failures": [str(f) for f in failures],
    }
    if failures:  # the run is marked failed so the operator sees it; what did arrive is loaded and published
        raise FetchError(
            f"{len(failures)} feed(s) could not be fetched (the rest were loaded and published): "
            + "; ".join(str(f) for f in failures),
            transient=all(f.transient for f in failures),
        )
    return summary
