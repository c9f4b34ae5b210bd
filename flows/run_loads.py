"""The one path from landed extracts to what people see: load each extract, publish the analysts' warehouse, write
the board pack, alert partners. The nightly flow, the load-landed trigger, a backfill, a rebuild and the ``yos``
commands all go through :func:`run_loads`.

Each step is a Prefect task (:mod:`flows.tasks`) taking ids and paths, so inside a flow run every step is a task run
named for its partner and feed, with Prefect's retries and caching. Outside a flow run (``yos load`` needs no
Prefect server) the same steps run as plain calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prefect import Task
from prefect.context import FlowRunContext

from flows import tasks
from flows.steps import Pipeline, new_run_id
from partnership.settings import prepare_environment
from reports import board_pack
from warehouse.landing import Extract

R = TypeVar("R")


def step(task: Task[..., R], *args: Any, **kwargs: Any) -> R:
    """Run ``task`` as a Prefect task inside a flow run, or as a plain call outside one."""
    if FlowRunContext.get() is None:
        return task.fn(*args, **kwargs)
    return task(*args, **kwargs)


@dataclass
class Run:
    """What one run did: every load's summary (``flows.tasks.load``), what it published and who it told."""

    run_id: str
    loads: list[dict] = field(default_factory=list)
    published: str | None = None
    board_pack: str | None = None
    alerts: list[dict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether any load changed the warehouse (an extract loaded or held back, not one already loaded)."""
        return any(x["status"] != "already_loaded" for x in self.loads)


def run_loads(
    extracts: list[Extract],
    *,
    again: bool = False,
    alert: bool = True,
    every_night: bool = False,
    run_id: str | None = None,
) -> Run:
    """Load ``extracts`` (landed) in order, then publish, then alert.

    ``again`` loads extracts that were loaded before (a backfill). The warehouse is published when a load changed
    it, or when the published file is missing or behind the loader (a publish killed part way: the next run
    catches up). ``alert`` tells partners about this run's loads (and resends what an earlier run failed to
    deliver) when a load changed something. ``every_night`` is the nightly's contract: the
    board pack is rewritten when something changed (or is missing, or older than a hub member's hub warehouse), and
    alerting runs even on a night with nothing new, so that a failed alert is resent and persistent problems are
    escalated."""
    run = Run(run_id or new_run_id())
    for e in extracts:
        run.loads.append(step(tasks.load, e.extract_id, e.partner, e.feed, again=again))
    with Pipeline() as p:
        behind = p.publish_needed()
    if run.changed or behind:
        run.published = step(tasks.publish)
    if every_night:
        pack = prepare_environment().board_pack
        run.board_pack = step(tasks.board_pack) if run.published or board_pack.out_of_date(pack) else str(pack)
        step(tasks.data_quality)  # every night: its ages and on-time figures move even when no data did
    if alert and (run.changed or every_night):
        loaded = [x["load_id"] for x in run.loads if x["status"] != "already_loaded" and x["load_id"] is not None]
        run.alerts = step(tasks.alert, run.run_id, loaded)
    return run


def rebuild(reason: str) -> int:
    """Rebuild the whole warehouse from the landing zone under the configured key; returns extracts reloaded.

    The manifest and audit trail are carried over and every landed extract is loaded again in period order, so the
    result is the state the loads reached, under the current key (:mod:`warehouse.rebuild`)."""
    started = dt.datetime.now(dt.UTC)
    with Pipeline() as p:
        p.start_over()
        pending = p.pending()
    run = run_loads(pending, alert=False)
    if run.published is None:  # nothing to reload: the old published file still holds the old key's pseudonyms
        step(tasks.publish)
    with Pipeline() as p:
        p.finish_rebuild(started, reason, len(pending))
    return len(pending)
