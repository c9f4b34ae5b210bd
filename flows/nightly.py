"""The nightly load: pull every configured feed, load what arrived, publish, and alert partners.

Orchestration only: each task is one call into :class:`flows.steps.Pipeline`. A feed that cannot be fetched
(after the client's own retries) fails its task and the run goes on with the others; the flow reports it and ends
failed so that the operator sees it, while the data that did arrive is loaded and published.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.steps import Pipeline, new_run_id
from partners.http import FetchError
from warehouse.landing import Extract
from warehouse.load import LoadResult


@task(name="pull", cache_policy=NO_CACHE, task_run_name="pull {partner_id}/{feed}")
def pull(p: Pipeline, partner_id: str, feed: str) -> Extract | None:
    return p.pull(partner_id, feed)


@task(name="load", cache_policy=NO_CACHE, task_run_name="load {extract.partner}/{extract.feed}")
def load(p: Pipeline, extract: Extract) -> LoadResult:
    return p.load(extract)


@task(name="publish", cache_policy=NO_CACHE)
def publish(p: Pipeline) -> str:
    return str(p.publish())


@task(name="board pack", cache_policy=NO_CACHE)
def board_pack(p: Pipeline) -> str:
    return str(p.board_pack()[0])


@task(name="alert partners", cache_policy=NO_CACHE)
def alert(p: Pipeline, run_id: str, results: list[LoadResult]) -> list[dict]:
    return p.alert(run_id, results)


@flow(name="nightly", log_prints=True)
def nightly(partners: list[str] | None = None) -> dict:
    """Pull every feed of every configured partner (or only ``partners``), load, publish and alert."""
    logger = get_run_logger()
    run_id = new_run_id()
    results: list[LoadResult] = []
    failures: list[FetchError] = []
    with Pipeline() as p:
        for partner_id, partner in p.cfg.partners.items():
            if partners and partner_id not in partners:
                continue
            for feed in partner.feeds:
                try:
                    pull(p, partner_id, feed)
                except FetchError as e:
                    failures.append(e)
        # Load everything landed and not yet loaded, oldest period first: this run's arrivals, and any extract an
        # interrupted run landed but never loaded (its partner would now answer 304).
        for extract in p.pending():
            if not partners or extract.partner in partners:
                results.append(load(p, extract))
        # Nothing new (every partner answered 304) leaves the published warehouse as it is: no rebuild
        published = publish(p) if results or not p.paths.published_db.exists() else str(p.paths.published_db)
        pack = board_pack(p) if results or not p.paths.board_pack.exists() else str(p.paths.board_pack)
        alerts = alert(p, run_id, results)
    for f in failures:
        logger.error("[%s] not fetched: %s", str(f).split(":")[0], f)
    summary = {
        "run_id": run_id,
        "published": published,
        "board_pack": pack,
        "loads": [
            {
                "partner": r.extract.partner,
                "feed": r.extract.feed,
                "extract_id": r.extract.extract_id,
                "status": r.status,
                "received": r.rows_received,
                "loaded": r.rows_loaded,
                "quarantined": r.rows_quarantined,
            }
            for r in results
        ],
        "alerts": alerts,
        "fetch_failures": [str(f) for f in failures],
    }
    if failures:  # the run is marked failed so the operator sees it; what did arrive is loaded and published
        raise FetchError(
            f"{len(failures)} feed(s) could not be fetched (the rest were loaded and published): "
            + "; ".join(str(f) for f in failures),
            transient=all(f.transient for f in failures),
        )
    return summary
