"""The pipeline's steps as Prefect tasks. Each takes ids and paths, never a live object, and opens the partnership
(configuration, data directory, loader connection) for itself, so Prefect can name, retry and cache it as it
intends. Every task run is named for the partner and feed it is about.

A step that finds the warehouse busy (another process holds DuckDB's single writer lock) is retried by Prefect.
Nothing is cached (``NO_CACHE``) on purpose: every step reads and changes the warehouse, whose state is not among
its inputs. Loading the same extract twice is already a no-op, checked against the warehouse itself ("already
loaded"), which stays right after a rebuild or a restored backup where a cached result would not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.steps import Pipeline
from partnership.logs import feed_logger
from reports.board_pack import BoardPackError
from warehouse.db import WarehouseBusy

BUSY_RETRIES = {"retries": 20, "retry_delay_seconds": 15}


def _busy(task: Any, run: Any, state: Any) -> bool:
    """Retry only when the warehouse was busy; any other failure is reported as it is."""
    try:
        state.result()
    except WarehouseBusy:
        return True
    except Exception:  # noqa: BLE001 - the state's own exception, whatever it is, is not ours to retry
        return False
    return False


# A pull asks the partner each time: its result is never cached.
@task(name="pull", task_run_name="pull {partner}/{feed}", cache_policy=NO_CACHE)
def pull(partner: str, feed: str) -> str | None:
    """Fetch one feed into landing; its extract id, or None when unchanged since the last pull."""
    with Pipeline() as p:
        extract = p.pull(partner, feed)
    return extract.extract_id if extract else None


@task(
    name="load", task_run_name="load {partner}/{feed}", cache_policy=NO_CACHE, **BUSY_RETRIES, retry_condition_fn=_busy
)
def load(extract_id: str, partner: str, feed: str, again: bool = False) -> dict:
    """Stage, validate and load one landed extract; its summary (see :meth:`flows.steps.Pipeline.load_summary`)."""
    with Pipeline() as p:
        extract = p.extract(extract_id, feed)
        return p.load_summary(p.load(extract, again=again))


@task(name="publish", cache_policy=NO_CACHE, **BUSY_RETRIES, retry_condition_fn=_busy)
def publish() -> str:
    """Rebuild the analysts' warehouse and swap it in; its path."""
    with Pipeline() as p:
        return str(p.publish())


@task(name="board pack", cache_policy=NO_CACHE)
def board_pack() -> str | None:
    """Write the management board's pack from the published warehouse; its path, or None when there are no
    figures to show yet (a night on which nothing has ever been loaded: said in the log, not a failure)."""
    with Pipeline() as p:
        try:
            return str(p.board_pack()[0])
        except BoardPackError as e:
            feed_logger().warning("no board pack written: %s", e)
            return None


@task(name="data quality", cache_policy=NO_CACHE)
def data_quality(path: str | None = None) -> str:
    """Write the partners' data-quality page from the published warehouse (due times from the expected-extract
    calendar); its path."""
    import datetime as dt

    from notify import calendar
    from partnership.config import load_config
    from partnership.settings import prepare_environment
    from reports import data_quality as page
    from warehouse.db import connect_analyst

    paths, cfg = prepare_environment(), load_config()
    now = dt.datetime.now(dt.UTC)
    partners = {pid: list(p.feeds) for pid, p in cfg.partners.items()}
    rules = {feed: calendar.rule_for(feed, cfg.calendar) for feeds in partners.values() for feed in feeds}
    due = {f: calendar.due_times(r, now.date() - dt.timedelta(days=800), now.date()) for f, r in rules.items() if r}
    starts = dt.date.fromisoformat(str(cfg.calendar.get("starts", "2000-01-01")))
    con = connect_analyst(paths.published_db)
    try:
        target = Path(path) if path else paths.data_quality
        page.write(con, target, area=cfg.area, partners=partners, due=due, calendar_starts=starts, now=now)
    finally:
        con.close()
    return str(target)


@task(name="alert partners", cache_policy=NO_CACHE, **BUSY_RETRIES, retry_condition_fn=_busy)
def alert(run_id: str, load_ids: list[int]) -> list[dict]:
    """Alert partners about ``load_ids``, escalate what persists, resend what failed before."""
    with Pipeline() as p:
        return p.alert_loads(run_id, load_ids)
