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
from notify.fetch_failures import notify_fetch_failures
from partners.http import FetchError

# Where a missing credential most often comes from: a shell that is not the service's.
STAND_INS = (
    "The service reads partners' credentials from its environment (config/partnership.yml names each). To run the "
    "nightly by hand against the demo's stand-in partners, start them with `yos partners serve --from "
    "data/demo/partners` and the same YOS_TOKEN_* variables set in both shells (yos demo sets its own for its run)."
)


@flow(name="nightly", log_prints=True)
def nightly(partners: list[str] | None = None) -> dict:
    """Pull every feed of every configured partner (or only ``partners``), load, publish and alert."""
    logger = get_run_logger()
    failures: list[FetchError] = []
    no_credential: dict[str, str] = {}
    with Pipeline() as p:
        chosen = [x for pid, x in p.cfg.partners.items() if not partners or pid in partners]
    for partner in chosen:
        if missing := partner.missing_credential():  # said once per partner, not once per feed and retry
            logger.error("[%s/-/-] its %s feed(s) were not pulled: %s", partner.id, len(partner.feeds), missing)
            no_credential[partner.id] = missing
            continue
        for feed in partner.feeds:
            try:
                tasks.pull(partner.id, feed)
            except FetchError as e:
                failures.append(e)
    if no_credential:
        logger.error(STAND_INS)
    # Load everything landed and not yet loaded, oldest period first: this run's arrivals, and any extract an
    # interrupted run landed but never loaded (its partner would now answer 304).
    with Pipeline() as p:
        pending = [e for e in p.pending() if not partners or e.partner in partners]
    run = run_loads(pending, every_night=True)
    with Pipeline() as p:  # the partner's data lead and ours hear of a fetch failure once per episode, and when fixed
        fetch_alerts = notify_fetch_failures(p.con, p.cfg, p.paths.outbox, run.run_id, failures,
                                             no_credential, [x.id for x in chosen])  # fmt: skip
    for f in failures:
        logger.error("not fetched: %s", f)
    summary = {
        "run_id": run.run_id,
        "published": run.published or str(p.paths.published_db),
        "board_pack": run.board_pack,
        "loads": run.loads,
        "alerts": run.alerts + fetch_alerts,
        "fetch_failures": [str(f) for f in failures],
    }
    if failures or no_credential:  # the run is marked failed so the operator sees it; what did arrive is loaded
        loaded = sum(1 for x in run.loads if x["status"] != "already_loaded")
        unfetched = len(failures) + sum(len(p.feeds) for p in chosen if p.id in no_credential)
        reasons = [f"{pid}: {missing}" for pid, missing in no_credential.items()] + [str(f) for f in failures]
        raise FetchError(
            f"{unfetched} feed(s) could not be fetched ("
            + (f"{loaded} extract(s) that did arrive were loaded and published" if loaded else "nothing new was loaded")
            + "): "
            + "; ".join(reasons),
            transient=not no_credential and all(f.transient for f in failures),
        )
    return summary
