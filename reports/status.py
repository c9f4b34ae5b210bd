"""`yos status`: one screen for whoever keeps the service running, and whether anything needs a person.

Read from the published warehouse (each feed's last good extract and what is held back) and, briefly and read-only,
from the loader's own file (alerts not delivered, loads not yet published, the last nightly pull): a load in progress
holds that file, and then the screen says a load is running instead of failing. The next scheduled runs come from the
Prefect API when ``PREFECT_API_URL`` names a server that answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from dataclasses import dataclass, field

from partnership.settings import Paths
from warehouse import state
from warehouse.db import connect_analyst

PULL_STALE_AFTER = dt.timedelta(hours=36)  # the nightly pulls every night: older than this, it has stopped


@dataclass
class Status:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def say(self, text: str = "") -> None:
        self.lines.append(text)

    def attention(self, text: str) -> None:
        self.problems.append(text)
        self.lines.append(f"  ! {text}")

    def text(self) -> str:
        verdict = (
            "OK: nothing needs a person."
            if self.healthy
            else f"NEEDS ATTENTION ({len(self.problems)}):\n" + "\n".join(f"  - {p}" for p in self.problems)
        )
        return "\n".join([*self.lines, "", verdict])


def _age(then: dt.datetime | None, now: dt.datetime) -> str:
    if then is None:
        return "never"
    seconds = max((now - then).total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _when(t: dt.datetime | None) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if t else "never"


@dataclass
class PrefectView:
    """What the Prefect API said, or why it said nothing (``unavailable``)."""

    unavailable: str | None = None
    last_nightly: tuple[str, str, dt.datetime | None] | None = None  # (run name, state, start time)
    upcoming: list[tuple[str, str, dt.datetime | None]] = field(default_factory=list)  # (deployment, run, when)


def prefect_view(timeout: float = 5.0) -> PrefectView:
    """The last nightly flow run and the next scheduled runs, from the server ``PREFECT_API_URL`` names."""
    api = os.environ.get("PREFECT_API_URL")
    if not api:
        return PrefectView("no Prefect server configured (PREFECT_API_URL is not set): scheduled runs not known")
    import httpx

    try:
        httpx.get(f"{api.rstrip('/')}/health", timeout=timeout).raise_for_status()
    except httpx.HTTPError as e:
        return PrefectView(
            f"the Prefect server at {api} does not answer ({type(e).__name__}): scheduled runs not known"
        )
    return asyncio.run(_read_prefect())


async def _read_prefect() -> PrefectView:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    view = PrefectView()
    async with get_client() as client:
        done = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED, StateType.RUNNING]
        last = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["nightly"])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=done))),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
        if last:
            r = last[0]
            view.last_nightly = (r.name, r.state.name if r.state else "unknown", r.start_time)
        scheduled = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=6,
        )
        names = {d.id: d.name for d in await client.read_deployments()}
        view.upcoming = [(names.get(r.deployment_id, "-"), r.name, r.expected_start_time) for r in scheduled]
    return view


def check(paths: Paths, prefect: PrefectView, now: dt.datetime | None = None) -> Status:
    """Every check, in the order the screen shows them. ``status.problems``: what needs a person."""
    now = now or dt.datetime.now(dt.UTC)
    s = Status()
    loader = state.read_loader(paths.loader_db)
    published_load = None

    s.say("Last nightly run")
    if prefect.last_nightly:
        name, state_name, started = prefect.last_nightly
        s.say(f"  {name}: {state_name}, started {_when(started)} ({_age(started, now)})")
        if state_name in ("Failed", "Crashed", "Cancelled", "TimedOut"):
            s.attention(f"the last nightly run ({name}) ended {state_name}: see its logs in the Prefect UI")
    elif prefect.unavailable is None:
        s.say("  Prefect has no nightly run yet")
    if loader is None:
        s.say("  nothing loaded yet: no loader warehouse")
    elif loader.busy:
        s.say(f"  a load is running{f' ({loader.holder})' if loader.holder else ''}: the loader's file was not read")
    else:
        if loader.last_pull_at is None:
            s.say("  no partner endpoint pulled yet (extracts came by file)")
        else:
            s.say(f"  last pull from partners {_when(loader.last_pull_at)} ({_age(loader.last_pull_at, now)})")
            if now - loader.last_pull_at > PULL_STALE_AFTER:
                s.attention(f"no nightly pull since {_when(loader.last_pull_at)}: is the service running?")
        for partner, feed, at, detail in loader.failed_pulls:
            s.attention(f"{partner}/{feed} could not be fetched at {_when(at)}: {detail or 'failed'}")
        for load_id, partner, feed, started, message in loader.failed_loads:
            s.attention(f"load {load_id} of {partner}/{feed} (started {_when(started)}) did not finish: "
                        f"{message or 'interrupted'}; the next run loads it again")  # fmt: skip

    s.say()
    s.say("Feeds: last good extract")
    if not paths.published_db.exists():
        s.attention(f"no published warehouse at {paths.published_db}: run `yos run nightly` or `yos load`")
    else:
        con = connect_analyst(paths.published_db)
        try:
            published_load = state.latest_finished_load(con)
            feeds = state.feed_loads(con)
        finally:
            con.close()
        width = max((len(f"{f.partner}/{f.feed}") for f in feeds), default=10)
        for f in feeds:
            good = (f"load {f.last_good_load}, received {_when(f.last_good_received_at)} "
                    f"({_age(f.last_good_received_at, now)})") if f.last_good_load else "none loaded yet"  # fmt: skip
            s.say(f"  {f'{f.partner}/{f.feed}':<{width}}  {good}")
        s.say()
        s.say("Held back, awaiting a corrected file")
        held = [f for f in feeds if f.held_back_load is not None]
        for f in held:
            s.attention(f"{f.partner}/{f.feed}: extract received {_when(f.held_back_received_at)} was held back "
                        f"(load {f.held_back_load}): {f.held_back_message or 'see audit.extract_problems'}")  # fmt: skip
        if not held:
            s.say("  none")

    s.say()
    s.say("Alerts not delivered")
    if loader is not None and not loader.busy:
        for u in loader.undelivered:
            s.attention(f"{u.what} to {u.partner} ({u.recipient}) not delivered: {u.error or 'failed'}")
        if not loader.undelivered:
            s.say("  none")
    else:
        s.say("  not checked (the loader's file was not read)")

    s.say()
    s.say("Warehouse")
    if loader is not None and not loader.busy:
        s.say(f"  loader: latest load {loader.latest_load or '-'}; published file: load {published_load or '-'}")
        if paths.published_db.exists():
            s.say(f"  published {_when(dt.datetime.fromtimestamp(paths.published_db.stat().st_mtime, dt.UTC))}")
        if loader.latest_load and (published_load or 0) < loader.latest_load:
            s.attention(f"the published file is behind the loader (published load {published_load or 'none'}, "
                        f"loader load {loader.latest_load}): publishing failed or has not run")  # fmt: skip
        if loader.pending:
            s.say(f"  {len(loader.pending)} extract(s) landed and not yet loaded (the next run loads them)")
    elif loader is not None:
        s.say("  a load is running: publishing follows it")

    s.say()
    s.say("Next scheduled runs")
    if prefect.unavailable:
        s.say(f"  {prefect.unavailable}")
        if os.environ.get("PREFECT_API_URL"):
            s.attention(prefect.unavailable)
    elif prefect.upcoming:
        for deployment, name, when in prefect.upcoming:
            s.say(f"  {_when(when)}  {deployment} ({name})")
    else:
        s.say("  none scheduled: is `yos serve` running with its deployments?")
    return s
