"""``yos demo``: the whole system on one machine in about a minute.

Generates a synthetic partnership (with a few realistic defects), starts the stand-in partner endpoints and a mail
catcher on loopback, runs the nightly Prefect flow against them, then reads the published warehouse to print what
happened: rows per feed, the headline KPIs, the alerts sent, and how to query the warehouse yourself.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

from partnership.config import load_config
from partnership.settings import Paths, prepare_environment
from sandbox.generate import generate
from sandbox.partner_server import serve
from warehouse import audit
from warehouse.db import connect_analyst

DEMO_DEFECTS = [
    "bad_codes",
    "impossible_dates",
    "duplicates",
    "names_in_id_column",
    "malformed_lines",
    "missing_column",
]


def _table(rows: list[tuple], headers: list[str]) -> str:
    cells = [[("" if v is None else str(v)) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in cells:
        out.append(
            "  ".join(
                v.rjust(w) if v.replace(".", "").replace("-", "").isdigit() else v.ljust(w)
                for v, w in zip(r, widths, strict=True)
            )
        )
    return "\n".join(out)


def report(paths: Paths, la_code: str, new_loads: set[str]) -> str:
    """What the published warehouse now says: per-feed rows, headline KPIs. Every figure is read from it."""
    con = connect_analyst(paths.published_db)
    try:
        loads = audit.latest_per_feed(con)
        feeds = [
            (p, f, r, lo, q, s.replace("_", " ") + ("" if e in new_loads else " (earlier run)"))
            for p, f, s, r, lo, q, e in loads
        ]
        fte = con.execute(
            """select f.year, f.fte_count, f.population_10_17, f.rate_per_100k, m.england_value
               from kpi.first_time_entrants as f
               left join kpi.measures as m
                 on m.measure = 'first_time_entrants' and m.la_code = f.la_code and m.period = f.year::varchar
               where f.la_code = ? order by f.year""",
            [la_code],
        ).fetchall()
        reoff = con.execute(
            """select cohort_start || ' to ' || cohort_end, offenders, reoffenders, binary_rate_pct,
                      reoffences_per_reoffender
               from kpi.reoffending where la_code = ? and cohort_type = 'rolling_12_months' and follow_up_complete
               order by cohort_end desc limit 1""",
            [la_code],
        ).fetchall()
        custody = con.execute(
            "select financial_year, custodial_sentences, remands_youth_detention, custody_rate_per_1000 "
            "from kpi.custody where la_code = ? order by financial_year",
            [la_code],
        ).fetchall()
        oocd = con.execute(
            "select financial_year, formal_oocd, informal_oocd, diversion, charged, oocd_share_pct, "
            "oocd_completion_pct from kpi.oocd_usage where la_code = ? order by financial_year",
            [la_code],
        ).fetchall()
    finally:
        con.close()
    parts = [
        "Rows per feed (latest extract of each):",
        _table(feeds, ["partner", "feed", "received", "loaded", "quarantined", "outcome"]),
        "",
        f"First time entrants, {la_code} (kpi.first_time_entrants):",
        _table(fte, ["year", "FTEs", "pop 10-17", "per 100k", "England per 100k"]),
        "",
        "Proven reoffending, latest complete rolling 12-month cohort (kpi.reoffending):",
        _table(reoff, ["cohort", "children", "reoffenders", "binary %", "reoffences per reoffender"]),
        "",
        "Use of custody (kpi.custody):",
        _table(custody, ["financial year", "custodial sentences", "remands", "per 1,000"]),
        "",
        "Out-of-court disposals (kpi.oocd_usage):",
        _table(oocd, ["financial year", "formal", "informal", "diversion", "charged", "OOCD %", "completed %"]),
    ]
    return "\n".join(parts)


def run_demo(echo: Callable[[str], None], nightly: Callable[[], dict], *, seed: int = 7, children: int = 700) -> dict:
    """The demo, with ``nightly`` the flow to run (the CLI passes ``flows.nightly.nightly``: nothing below the CLI
    imports flows)."""
    paths = prepare_environment()
    cfg = load_config()
    partners_dir = paths.data / "demo" / "partners"

    echo(
        f"[1/4] Generating a synthetic partnership ({cfg.la_name}, {children} children, seed {seed}) "
        f"with defects {', '.join(DEMO_DEFECTS)} ..."
    )
    manifest = generate(partners_dir, seed=seed, children=children, la_code=cfg.la_code, defects=DEMO_DEFECTS)
    echo(
        f"      {sum(f['rows'] for f in manifest['feeds'].values())} rows in {len(manifest['feeds'])} feeds "
        f"under {partners_dir}"
    )

    for partner in cfg.partners.values():  # demo credentials, by reference, as production would have them
        if partner.token and partner.token.env and not os.environ.get(partner.token.env):
            os.environ[partner.token.env] = secrets.token_urlsafe(24)
    tokens = {pid: p.token.resolve() for pid, p in cfg.partners.items() if p.token}
    server = serve(partners_dir, tokens)
    os.environ["YOS_PARTNERS_URL"] = server.url

    from sandbox.mailcatcher import MailCatcher

    with MailCatcher(paths.data / "demo" / "mail") as catcher:
        os.environ["YOS_SMTP_HOST"] = "127.0.0.1"
        os.environ["YOS_SMTP_PORT"] = str(catcher.port)
        echo(f"[2/4] Partner endpoints on {server.url}, mail catcher on 127.0.0.1:{catcher.port}")
        echo("[3/4] Running the nightly flow under Prefect (pull, validate, load, publish, alert) ...")
        summary = nightly()
        mails = sorted(catcher.folder.glob("*.eml"))
    server.shutdown()

    echo("[4/4] Reading the published warehouse ...\n")
    new_loads = {x["extract_id"] for x in summary["loads"]}
    echo(report(paths, cfg.la_code, new_loads))
    echo("")
    if summary["alerts"]:
        echo("Data-quality alerts sent this run:")
        for a in summary["alerts"]:
            echo(f"  {a['partner']:<24} -> {a['recipient']:<30} {a['status']}")
        echo(
            f"  Read them: {catcher.folder}/*.eml ({len(mails)} caught), copies in {paths.outbox}/{summary['run_id']}/"
        )
    else:
        echo("No new alerts this run (nothing new arrived: every extract was unchanged).")
    rel = os.path.relpath(paths.published_db)
    echo(f"""
The management board's KPI pack (self-contained HTML, disclosure-controlled): {os.path.relpath(summary["board_pack"])}
  every KPI's trend against England and the comparator area; `yos report --pdf` prints it to PDF too.

Query the warehouse (read-only; the nightly load never waits for you):
  .venv/bin/duckdb -readonly {rel} -c "select * from kpi.first_time_entrants"
  .venv/bin/yos sql "select * from catalog where kind = 'view'"
  python -c "import duckdb; print(duckdb.connect('{rel}', read_only=True).sql('from kpi.oocd_usage'))"
  .venv/bin/yos sql "select measure, period, value, england_value, gap_to_england from kpi.measures"
""")
    return summary
