"""The ``yos`` command: thin commands over the library. Each turns known failures into a message that names what
went wrong and how to fix it; a traceback means a bug."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import duckdb

from partnership import progress
from partnership.settings import prepare_environment
from yos.shell import one_line


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the pipeline's known failures into a clear message and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from expectations.contract import ContractError
        from partners.http import FetchError
        from partnership.config import ConfigError
        from reports.board_pack import BoardPackError
        from warehouse.db import WarehouseBusy

        try:
            return fn(*args, **kwargs)
        except (
            BoardPackError,
            ContractError,
            ConfigError,
            FetchError,
            WarehouseBusy,
            FileNotFoundError,
            ValueError,
            RuntimeError,
        ) as e:
            raise click.ClickException(str(e)) from e
        except duckdb.Error as e:  # a query's mistake: DuckDB's own message, on one line
            raise click.ClickException(one_line(e)) from None

    return wrapper


@click.group()
@click.version_option(package_name="yos-pipeline", prog_name="yos")
def cli() -> None:
    """yos-pipeline: partner extracts in, validated and pseudonymised KPI views out."""
    prepare_environment()


@cli.command()
@click.option("--seed", default=7, show_default=True, help="Seed for the synthetic partnership.")
@click.option("--children", default=700, show_default=True, help="Children known to the police in the partnership.")
@friendly
def demo(seed: int, children: int) -> None:
    """Generate a partnership, serve it, run the nightly flow, and show the results.

    Example: yos demo
    """
    from flows.nightly import nightly
    from sandbox.demo import run_demo

    run_demo(lambda s: click.echo(s), nightly, seed=seed, children=children)


@cli.command()
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write.")
@click.option("--seed", default=7, show_default=True)
@click.option("--children", default=700, show_default=True)
@click.option("--years", default=3, show_default=True, help="Reporting years (two earlier years of history come too).")
@click.option("--end-year", default=2025, show_default=True, help="Last calendar year of data.")
@click.option("--la-code", default="E06000015", show_default=True, help="ONS code of the partnership's LA.")
@click.option("--defects", default="", help="Comma-separated defects to inject, or 'all'.")
@friendly
def generate(out: Path, seed: int, children: int, years: int, end_year: int, la_code: str, defects: str) -> None:
    """Write a synthetic partnership: every feed of every partner, under OUT/<partner>/<feed>.csv.

    Example: yos generate --out /tmp/derby --seed 7 --defects bad_codes,duplicates
    """
    from sandbox.generate import DEFECTS
    from sandbox.generate import generate as gen

    chosen = list(DEFECTS) if defects == "all" else [d for d in defects.split(",") if d]
    manifest = gen(out, seed=seed, children=children, years=years, end_year=end_year, la_code=la_code, defects=chosen)
    for meta in manifest["feeds"].values():
        click.echo(f"{meta['path']:<45} {meta['rows']:>7} rows")
    for d in manifest["defects"]:
        click.echo(f"defect {d['defect']}: {d['feed']} -> caught by {d['rule_id']}")


@cli.group()
def partners() -> None:
    """The stand-in partner endpoints."""


@partners.command("serve")
@click.option(
    "--from",
    "root",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder written by `yos generate`.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True)
@click.option("--fault", "faults", multiple=True, help="FEED=FAULT[,FAULT...], e.g. police_outcomes=500,cut")
@friendly
def partners_serve(root: Path, host: str, port: int, faults: tuple[str, ...]) -> None:
    """Serve each partner's feeds over HTTP with per-partner bearer tokens, ETags and optional faults.

    Tokens are the ones the configuration names (e.g. YOS_TOKEN_POLICE); set them in the environment.

    Example: YOS_TOKEN_POLICE=... yos partners serve --from /tmp/derby --fault police_outcomes=503:2
    """
    from partnership.config import load_config
    from sandbox.partner_server import serve

    cfg = load_config()
    tokens = {pid: p.token.resolve() for pid, p in cfg.partners.items() if p.token}
    parsed = {f.split("=", 1)[0]: f.split("=", 1)[1].split(",") for f in faults}
    server = serve(root, tokens, host=host, port=port, faults=parsed)
    click.echo(f"Serving {root} on {server.url} (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


@cli.group()
def intake() -> None:
    """The intake folder, <data>/intake/<partner>/."""


@intake.command("scan")
@click.option("--settle", default=10.0, show_default=True, help="Seconds a file must be unchanged before it is taken.")
@click.option("--load", "load_now", is_flag=True, help="Also load what landed and republish (no Prefect needed).")
@friendly
def intake_scan(settle: float, load_now: bool) -> None:
    """Land every complete file in the intake folders once, announcing each as yos.extract.landed.

    Example: yos intake scan --load
    """
    from flows import events
    from flows.run_loads import run_loads
    from flows.steps import Pipeline
    from partners.intake import shown

    with Pipeline() as p:
        result = p.scan_intake(settle)
        pending = p.pending() if load_now else []
    for e in result.landed:
        click.echo(f"landed {e.label} ({e.bytes} bytes) from {shown(e.original_name or '')}")
    for name in result.duplicates:
        click.echo(f"already landed (same bytes): {shown(name)}")
    for name, reason in result.refused:
        click.echo(f"refused {shown(name)}: {reason}")
    if result.waiting:
        click.echo(f"{len(result.waiting)} file(s) not complete yet")
    for x in run_loads(pending).loads if pending else []:
        click.echo(f"{x['label']}: {x['summary']}")
    events.flush()


@intake.command("watch")
@click.option(
    "--scan-interval", "interval", default=5.0, show_default=True, help="Seconds between scans of the intake folders."
)
@click.option("--settle", default=10.0, show_default=True, help="Seconds a file must be unchanged before it is taken.")
def intake_watch(interval: float, settle: float) -> None:
    """Scan the intake folders for ever; each extract that lands triggers its load deployment.

    The folders are listed every interval; the warehouse is opened (and the loader's lock taken) only while one
    holds a file, so an idle watcher costs a directory listing and never delays a load.

    Example: yos intake watch --scan-interval 5
    """
    import time

    from partners.intake import anything_dropped, folders
    from partnership.config import load_config
    from partnership.logs import feed_logger, to_stderr

    to_stderr()
    paths = prepare_environment()
    feed_logger().info("watching %s every %s s", paths.intake, interval)
    while True:
        if anything_dropped(folders(paths.data, load_config())):  # the partners as configured now
            from flows import events
            from flows.steps import Pipeline
            from warehouse.db import WarehouseBusy

            try:
                with Pipeline() as p:
                    p.scan_intake(settle)
                events.flush()
            except WarehouseBusy:
                feed_logger().info("warehouse busy (a load is running); scanning again shortly")
        time.sleep(interval)


@cli.command()
@click.option("--port", type=int, help="Port for the Prefect server it starts (default: a free one).")
@click.option(
    "--scan-interval",
    "watch_interval",
    default=5.0,
    show_default=True,
    help="Seconds between scans of the intake folders.",
)
@click.option("--settle", default=10.0, show_default=True, help="Seconds a dropped file must be unchanged.")
@friendly
def serve(port: int | None, watch_interval: float, settle: float) -> None:
    """Run the service: Prefect server (unless PREFECT_API_URL is set), deployments, a worker, the intake watcher.

    Example: yos serve
    """
    from yos.serve import serve as run_service

    run_service(prepare_environment(), lambda s: click.echo(s), port=port, watch_interval=watch_interval,
                settle_seconds=settle)  # fmt: skip


@cli.group()
def run() -> None:
    """Run a flow now."""


@run.command("nightly")
@click.option("--partner", "partners_", multiple=True, help="Only these partners (default: all).")
@friendly
def run_nightly(partners_: tuple[str, ...]) -> None:
    """Pull every feed, load, publish and alert, as the 02:00 schedule does.

    Example: yos run nightly
    """
    from flows.nightly import nightly

    with progress.shown():
        summary = nightly(partners=list(partners_) or None)
    for x in summary["loads"]:
        click.echo(
            f"{x['partner']}/{x['feed']}: {x['status']} ({x['received']} received, {x['loaded']} loaded, "
            f"{x['quarantined']} quarantined)"
        )
    click.echo(
        f"published {summary['published']}; board pack {summary['board_pack']}; {len(summary['alerts'])} alert(s) sent"
    )


@cli.command()
@click.argument("feed")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-alert", is_flag=True, help="Do not email the partner about problems.")
@click.option(
    "--period",
    help="The period the extract speaks for, START/END (YYYY-MM-DD/YYYY-MM-DD), e.g. 2023-04-01/2024-03-31 for a "
    "2023/24 SSDA903 return sent again: its rules are that year's.",
)
@friendly
def load(feed: str, file: Path, no_alert: bool, period: str | None) -> None:
    """Load FILE as an extract of FEED through the same validation, then republish the warehouse.

    Needs no partner server and no Prefect server.

    Example: yos load police_outcomes outcomes.csv
    """
    from flows.run_loads import run_loads
    from flows.steps import Pipeline

    period_given = _period(period)
    with progress.shown():
        with Pipeline() as p:
            extract = p.land_file(feed, file, period=period_given)
        run = run_loads([extract], alert=not no_alert)
    (result,) = run.loads
    click.echo(f"{file.name} ({extract.label}): {result['summary']}")
    for prob in result["problems"]:
        click.echo(f"  {prob['rule_id']}: {prob['message']}\n    fix: {prob['fix']}")
    if result["quarantined"]:
        click.echo(
            f"  see the failing rows: yos sql \"from audit.data_quality where extract_id = '{extract.extract_id}'\""
        )
    for s in (a for a in run.alerts if not a.get("resent")):  # this load's alerts, and why one was not delivered
        click.echo(f"  alert to {s['recipient']}: {s['status']} (copy: {s['copy']})")
        if s["status"] != "sent":
            click.echo(f"    not delivered: {s['error']}; kept to resend on the next run")
    earlier = [a for a in run.alerts if a.get("resent")]
    if delivered := [a for a in earlier if a["status"] == "sent"]:
        click.echo(f"  {len(delivered)} earlier alert(s) delivered now")
    if undelivered := [a for a in earlier if a["status"] != "sent"]:
        errors = sorted({str(a["error"]) for a in undelivered})
        click.echo(
            f"  {len(undelivered)} earlier alert(s) still undelivered ({', '.join(errors)}): "
            + ", ".join(sorted({a["recipient"] for a in undelivered}))
        )
    if result["status"] == "held_back":
        sys.exit(2)


@cli.command()
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write (default data/board-pack.html)."
)
@click.option("--pdf", is_flag=True, help="Also print it to PDF with headless Chromium.")
@friendly
def report(out: Path | None, pdf: bool) -> None:
    """Write the management board's KPI pack: one self-contained HTML page with a chart of each KPI's trend against
    England and the comparator area, drawn from the disclosure-controlled published views.

    Example: yos report --pdf
    """
    from flows.steps import Pipeline

    with Pipeline() as p:
        for path in p.board_pack(out, pdf=pdf):
            click.echo(f"wrote {path}")


@cli.command(name="data-quality")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write (default data/data-quality.html)."
)
@friendly
def data_quality(out: Path | None) -> None:
    """Write the partners' data-quality page (the nightly writes it too): per partner and feed, rows received and
    the share quarantined by month, extracts held back, extracts on time, problems open, fixed and escalated, and
    the rules broken most this quarter. Counts only, from the published warehouse.

    Example: yos data-quality
    """
    from flows.tasks import data_quality as write_page

    click.echo(f"wrote {write_page.fn(str(out) if out else None)}")


@cli.command()
@friendly
def status() -> None:
    """One screen for whoever keeps the service running: the last nightly run, each feed's last good extract and
    its age, extracts held back, alerts not delivered, the warehouse's publish state, and the next scheduled runs
    (from the Prefect server PREFECT_API_URL names, when it answers).

    Exit status 0 when nothing needs a person; 1 when something does: the last nightly run failed or crashed, no
    nightly pull for 36 hours, a feed could not be fetched, a load did not finish, an extract is held back awaiting
    a corrected file, an alert or reminder was not delivered, the published file is behind the loader or missing,
    or PREFECT_API_URL is set and its server does not answer. A load in progress is not a fault: it is said.

    Example: yos status
    """
    from reports.status import check, prefect_view

    result = check(prepare_environment(), prefect_view())
    click.echo(result.text())
    sys.exit(0 if result.healthy else 1)


@cli.command()
@click.argument("query", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON lines.")
@friendly
def sql(query: str | None, as_json: bool) -> None:
    """Query the published warehouse read-only (no file or network access), or open its SQL shell.

    The shell takes SQL only (statements end with ';'); .tables lists what there is to read, .help the rest.
    A mistake prints DuckDB's message on one line (exit status 1 for a query given on the command line).

    Example: yos sql "select * from kpi.first_time_entrants"
    """
    from warehouse.db import connect_analyst
    from yos import shell

    con = connect_analyst(prepare_environment().published_db)
    try:
        if query is None:
            interactive = sys.stdin.isatty()
            if interactive:
                click.echo("yos sql: the published warehouse, read-only. .help for help, .quit to leave.")
            failed = shell.run(
                con,
                sys.stdin,
                click.echo,
                (lambda p: click.echo(p, nl=False)) if interactive else None,
            )
            sys.exit(1 if failed and not interactive else 0)
        _print(con.sql(query), as_json)
    finally:
        con.close()


@cli.command()
@click.argument("feed")
@click.option(
    "--from", "period_from", type=click.DateTime(["%Y-%m-%d"]), help="Only extracts for periods ending on or after."
)
@click.option(
    "--to", "period_to", type=click.DateTime(["%Y-%m-%d"]), help="Only extracts for periods ending on or before."
)
@friendly
def backfill(feed: str, period_from: object, period_to: object) -> None:
    """Run FEED's landed extracts through validation and loading again (after a contract fix, say).

    Example: yos backfill cic_episodes --from 2025-04-01
    """
    from expectations.contract import get_contract
    from flows.run_loads import run_loads
    from flows.steps import Pipeline

    get_contract(feed)
    start = period_from.date() if period_from else None  # type: ignore[attr-defined]
    end = period_to.date() if period_to else None  # type: ignore[attr-defined]
    with Pipeline() as p:
        extracts = p.landed(feed, start, end)
    with progress.shown():
        results = run_loads(extracts, again=True).loads if extracts else []
    for x in results:
        click.echo(f"{x['label']}: {x['summary']}")
    if not results:
        click.echo(f"no landed extracts of {feed} in that period")


@cli.command()
@friendly
def expected() -> None:
    """Send the reminders and escalations for late extracts that are due now (each once).

    Example: yos expected
    """
    from flows.steps import Pipeline

    with Pipeline() as p:
        sent = p.check_calendar()
    for s in sent:
        click.echo(
            f"{s['kind']} {s['partner']}/{s['feed']} due {s['due_at']} -> {s['recipient']}: "
            f"{'sent' if s['sent'] else 'not sent (will retry)'}"
        )
    if not sent:
        click.echo("nothing is late")


@cli.command(name="retention")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted, delete nothing.")
@friendly
def retention_(dry_run: bool) -> None:
    """Delete data older than each feed's retention period (config: retention), and record what went.

    Example: yos retention --dry-run
    """
    from flows.steps import Pipeline

    with Pipeline() as p:
        for a in p.apply_retention(dry_run=dry_run):
            click.echo(
                f"{a.feed:<24} keep {a.years:>2} years (from {a.cutoff}): {a.history_rows_deleted} rows, "
                f"{a.landed_files_deleted} landed files {'would be ' if dry_run else ''}deleted"
            )


@cli.command()
@friendly
def rekey() -> None:
    """Rotate the pseudonym key: rebuild every pseudonym from the landing zone under the new key.

    First put the new key where the configuration points (e.g. YOS_PSEUDONYM_KEY) and raise
    pseudonymisation.version.

    Example: YOS_PSEUDONYM_KEY=<new key> yos rekey
    """
    from flows.steps import Pipeline

    with Pipeline() as p:
        with progress.shown():
            n = p.rekey()
        click.echo(f"re-keyed to version {p.cfg.pseudonym_key_version}: {n} extracts reloaded from landing")


@cli.command()
@click.argument("view", required=False)
@click.option("--as-at", "as_at", help="A load id, or a date YYYY-MM-DD: the figures as they stood after it.")
@click.option("--la-code", help="Only this local authority.")
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON lines.")
@friendly
def kpi(view: str | None, as_at: str | None, la_code: str | None, as_json: bool) -> None:
    """Print a KPI view from the published warehouse, now or as at an earlier load; with no VIEW, list them.

    Reproduces a return sent before corrections arrived: the same query as at the load it was made from.

    Example: yos kpi first_time_entrants --as-at 3
    """
    from warehouse.as_at import resolve, set_as_at
    from warehouse.db import connect_analyst

    con = connect_analyst(prepare_environment().published_db)
    try:
        listed = con.execute(
            "select view_name, coalesce(comment, '') from duckdb_views() where schema_name = 'kpi' order by 1"
        ).fetchall()
        views = {name for name, _ in listed}
        if view is None:
            width = max(len(name) for name in views)
            for name, comment in listed:
                click.echo(f"{name:<{width}}  {comment.splitlines()[0] if comment else ''}")
            return
        if view not in views:
            raise click.ClickException(f"no view kpi.{view}; the KPI views are: {', '.join(sorted(views))}")
        if as_at:
            load_id = resolve(con, as_at)
            set_as_at(con, load_id)
            click.echo(f"as at load {load_id}", err=True)
        where = " where la_code = $la" if la_code else ""
        rel = con.sql(f"select * from kpi.{view}{where}", params={"la": la_code} if la_code else None)
        _print(rel, as_json)
    finally:
        con.close()


def _period(text: str | None) -> tuple[dt.date | None, dt.date | None]:
    """``START/END`` as two dates; a clear error naming the option otherwise."""
    if not text:
        return (None, None)
    try:
        start, end = (dt.date.fromisoformat(part.strip()) for part in text.split("/"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not START/END, e.g. 2023-04-01/2024-03-31", param_hint="--period"
        ) from None
    if end < start:
        raise click.BadParameter(f"the period ends ({end}) before it starts ({start})", param_hint="--period")
    return (start, end)


def _print(rel: duckdb.DuckDBPyRelation, as_json: bool) -> None:
    if as_json:
        cols = rel.columns
        for row in rel.fetchall():
            click.echo(json.dumps(dict(zip(cols, row, strict=True)), default=str))
    else:
        click.echo(str(rel))


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/contracts"),
    show_default=True,
)
@friendly
def contracts(out: Path) -> None:
    """Write the partner-facing documentation of every feed contract (Markdown).

    Example: yos contracts --out docs/contracts
    """
    from expectations.docs import write_docs

    for path in write_docs(out):
        click.echo(str(path))


@cli.group()
def hub() -> None:
    """A regional hub: several partnerships on one Prefect server (PostgreSQL) and a pool of workers."""


_HUB_CONFIG = click.option(
    "--config",
    "hub_config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The hub configuration (default: $YOS_HUB_CONFIG, else config/hub.example.yml).",
)


@hub.command("check")
@_HUB_CONFIG
@friendly
def hub_check(hub_config: Path | None) -> None:
    """Read the hub configuration and every partnership's own; refuse shared directories or secrets.

    Example: yos hub check --config config/hub.example.yml
    """
    from hub.config import check_hub, load_hub

    h = load_hub(hub_config, check=False)
    configs = check_hub(h)
    for mid, m in h.members.items():
        cfg = configs[mid]
        click.echo(f"{mid}: {cfg.name} ({cfg.la_code}), {len(cfg.partners)} partners, data in {m.data_dir}")
    click.echo(f"hub warehouse: {h.warehouse}; work pool {h.work_pool}, {h.workers} worker(s)")


@hub.command("serve")
@_HUB_CONFIG
@click.option("--workers", type=int, help="Workers to start (default: the configuration's); 0 starts none.")
@click.option("--port", type=int, help="Port for the Prefect server it starts (default: a free one).")
@click.option("--temp-postgres", is_flag=True, help="Start a throwaway PostgreSQL for the server (a trial).")
@click.option("--no-schedules", is_flag=True, help="Deploy with schedules paused (runs by hand, API or trigger only).")
@friendly
def hub_serve(hub_config: Path | None, workers: int | None, port: int | None, temp_postgres: bool,
              no_schedules: bool) -> None:  # fmt: skip
    """Run the hub: a Prefect server on PostgreSQL (unless PREFECT_API_URL is set), the work pool, every
    partnership's deployments and the hub rebuild, and the workers.

    Example: PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://prefect:PW@db/prefect yos hub serve
    """
    from hub.config import load_hub
    from hub.serve import serve as run_hub

    run_hub(load_hub(hub_config), lambda s: click.echo(s), workers=workers, port=port, temp_postgres=temp_postgres,
            schedules=not no_schedules)  # fmt: skip


@hub.command("rebuild")
@_HUB_CONFIG
@friendly
def hub_rebuild(hub_config: Path | None) -> None:
    """Rebuild the hub warehouse now from every partnership's published file (last nights from the Prefect API
    when PREFECT_API_URL is set).

    Example: yos hub rebuild
    """
    import os

    from hub.config import load_hub
    from hub.warehouse import build

    h = load_hub(hub_config, check=False)
    states = {}
    if os.environ.get("PREFECT_API_URL"):
        from hub.flows import last_nights

        states = last_nights(h)
    click.echo(f"hub warehouse rebuilt: {build(h, states)}")


if __name__ == "__main__":  # pragma: no cover
    cli()
