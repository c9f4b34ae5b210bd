"""The partners' data-quality page for the YOS data lead and the board: one self-contained HTML page (no scripts,
styles, fonts or images from a network; charts are inline SVG), written after every nightly beside the board pack.

Per partner and feed: rows received and the share quarantined by month (``audit.partner_scorecard``), extracts held
back, extracts on time against the expected-extract calendar, and problems open, fixed and escalated with their age
(``audit.problems``); then the rules broken most this quarter, in the contract's own words. Everything is read from
the published warehouse and is a count: no child's row or value appears on the page."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from expectations.contract import all_contracts, get_contract
from reports import charts
from warehouse import audit, state

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())

MONTHS = 12  # months of trend shown


@dataclass
class FeedQuality:
    partner: str
    feed: str
    title: str
    cadence: str
    months: list[str]
    rows: list[int]
    quarantined: list[int]
    share: list[float | None]
    last_received: dt.datetime | None = None
    held_back: int = 0
    held_back_now: str | None = None
    due: int | None = None  # due times in the window (None: the feed has no calendar)
    on_time: int = 0
    last_missed: dt.datetime | None = None
    reminders: int = 0
    open: list[dict] = field(default_factory=list)
    fixed: int = 0
    fixed_days: list[float] = field(default_factory=list)
    escalated: int = 0

    @property
    def rows_total(self) -> int:
        return sum(self.rows)

    @property
    def share_total(self) -> float | None:
        return round(100 * sum(self.quarantined) / self.rows_total, 2) if self.rows_total else None

    @property
    def on_time_pct(self) -> float | None:
        return round(100 * self.on_time / self.due, 1) if self.due else None

    @property
    def oldest_open_days(self) -> int | None:
        return max((p["age_days"] for p in self.open), default=None)

    @property
    def median_days_to_fix(self) -> float | None:
        return round(statistics.median(self.fixed_days), 1) if self.fixed_days else None

    def rows_chart(self) -> str:
        return charts.monthly(self.months, [float(r) for r in self.rows], title=f"{self.title}: rows received by month")

    def share_chart(self) -> str:
        return charts.monthly(
            self.months, self.share, kind="line", colour=charts.RED, fmt=lambda v: f"{v:g}%",
            title=f"{self.title}: share of rows quarantined by month",
        )  # fmt: skip


@dataclass
class RuleBroken:
    partner: str
    feed: str
    rule_id: str
    severity: str
    message: str
    rows: int | None
    extracts: int


def _month_labels(last: dt.date) -> list[dt.date]:
    first = dt.date(last.year - (1 if last.month < MONTHS else 0), (last.month - MONTHS) % 12 + 1, 1)
    out, m = [], first
    while m <= last:
        out.append(m)
        m = dt.date(m.year + m.month // 12, m.month % 12 + 1, 1)
    return out


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def rule_messages() -> dict[str, str]:
    """Every row rule's id and its message, in the contract's words, from each feed's contract."""
    out = {"line.malformed": "A line could not be read as CSV (too many or too few fields, or broken quoting)."}
    today = dt.date.today()
    for contract in all_contracts().values():
        for rule in contract.rules(today):
            out.setdefault(rule.id, rule.message)
    return out


def gather(
    con: duckdb.DuckDBPyConnection,
    partners: dict[str, list[str]],
    due: dict[str, list[dt.datetime]] | None = None,
    calendar_starts: dt.date | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[FeedQuality], list[RuleBroken], dt.date]:
    """Each configured feed's figures (``partners``: partner -> its feeds), the rules broken most this quarter, and
    the quarter's first day. ``due``: each feed's due times from the expected-extract calendar, oldest first (a feed
    missing from it has no calendar), counted from ``calendar_starts``."""
    now = now or dt.datetime.now(dt.UTC)
    latest = con.execute("select max(received_at) from audit.extracts").fetchone()[0]
    last_month = (latest or now).date().replace(day=1)
    months = _month_labels(last_month)
    window = dt.datetime.combine(months[0], dt.time(), tzinfo=dt.UTC)
    scorecard = {
        (f, m): (r, q, s, x)
        for f, m, r, q, s, x in con.execute(
            """select feed, month, rows_received, rows_quarantined, share_quarantined_pct, due_times_missed
               from audit.partner_scorecard where month >= ?""",
            [months[0]],
        ).fetchall()
    }
    received: dict[str, list[dt.datetime]] = {}
    for feed, at in con.execute("select feed, received_at from audit.extracts order by received_at").fetchall():
        received.setdefault(feed, []).append(at)
    held = state.held_back_loads(con, window)
    awaiting = {f.feed: f for f in state.feed_loads(con) if f.held_back_load is not None}
    messages = rule_messages()
    problems = con.execute(
        """select feed, rule_id, column_name, severity, opened_at, last_seen_at, closed_at, escalated_at
           from audit.problems order by opened_at"""
    ).fetchall()
    feeds = []
    for partner, partner_feeds in partners.items():
        for feed in partner_feeds:
            contract = get_contract(feed)
            q = FeedQuality(
                partner, feed, contract.title, contract.cadence, [f"{m:%b %y}" for m in months],
                [int(scorecard.get((feed, m), (0,))[0] or 0) for m in months],
                [int(scorecard.get((feed, m), (0, 0))[1] or 0) for m in months],
                [scorecard[(feed, m)][2] if (feed, m) in scorecard else None for m in months],
            )  # fmt: skip
            q.share = [None if v is None else float(v) for v in q.share]
            q.reminders = sum(int(scorecard.get((feed, m), (0, 0, 0, 0))[3] or 0) for m in months)
            arrivals = received.get(feed, [])
            q.last_received = arrivals[-1] if arrivals else None
            q.held_back = held.get(feed, 0)
            if feed in awaiting:
                q.held_back_now = awaiting[feed].held_back_message or "held back"
            if due is not None and feed in due:
                q.due, q.on_time = 0, 0
                times = due[feed]
                for i in range(1, len(times)):
                    t = times[i]
                    if t < window or t > now or (calendar_starts and t.date() < calendar_starts):
                        continue
                    if not arrivals or t < arrivals[0]:
                        continue  # not yet flowing: counted from the due time the feed's first extract met
                    q.due += 1
                    if any(times[i - 1] < r <= t for r in arrivals):
                        q.on_time += 1
                    else:
                        q.last_missed = t
            for f, rule_id, column, severity, opened, last_seen, closed, escalated in problems:
                if f != feed:
                    continue
                if closed is None:
                    q.open.append({
                        "rule": messages.get(rule_id, rule_id), "rule_id": rule_id, "column": column,
                        "severity": severity, "opened": opened, "last_seen": last_seen,
                        "age_days": max((now - opened).days, 0), "escalated": escalated,
                    })  # fmt: skip
                else:
                    q.fixed += 1
                    q.fixed_days.append((closed - opened).total_seconds() / 86400)
                q.escalated += escalated is not None
            q.open.sort(key=lambda p: -p["age_days"])
            feeds.append(q)
    quarter = quarter_start((latest or now).date())
    since = dt.datetime.combine(quarter, dt.time(), tzinfo=dt.UTC)
    broken = [
        RuleBroken(p, f, r, s, messages.get(r, r), n, x)
        for p, f, r, s, n, x in con.execute(
            """select d.partner, d.feed, d.rule_id, any_value(d.severity), sum(d.failing_rows),
                      count(distinct d.extract_id)
               from audit.data_quality as d join audit.extracts as e using (extract_id)
               where e.received_at >= ? group by d.partner, d.feed, d.rule_id""",
            [since],
        ).fetchall()
    ]
    broken += [RuleBroken(p, f, r, s, m, None, x) for p, f, r, s, m, x in state.extract_problems(con, since)]
    broken.sort(key=lambda b: (b.severity != "fatal", -(b.rows or 0), -b.extracts, b.feed))
    return feeds, broken, quarter


def partner_lines(con: duckdb.DuckDBPyConnection, months: int = 3) -> list[dict]:
    """One line per partner for the board pack, over the last ``months`` months of the scorecard: rows received, the
    share quarantined, extracts held back, due times missed, and problems open now (escalated among them)."""
    keys = ("partner", "feeds", "rows", "quarantined", "share", "held_back", "missed", "open", "escalated")
    return [
        dict(zip(keys, r, strict=True))
        for r in con.execute(
            f"""with recent as (
                    select * from audit.partner_scorecard
                    where month > (select max(month) from audit.partner_scorecard) - interval {int(months)} month),
                open as (
                    select partner, count(*) as open, count(escalated_at) as escalated
                    from audit.problems where closed_at is null group by all)
                select r.partner, count(distinct r.feed), sum(r.rows_received), sum(r.rows_quarantined),
                       round(100 * sum(r.rows_quarantined) / nullif(sum(r.rows_received), 0), 2),
                       sum(r.extracts_held_back), sum(r.due_times_missed),
                       coalesce(any_value(o.open), 0), coalesce(any_value(o.escalated), 0)
                from recent as r left join open as o using (partner)
                group by r.partner order by r.partner"""
        ).fetchall()
    ]


def render(
    con: duckdb.DuckDBPyConnection,
    area: dict[str, str],
    partners: dict[str, list[str]],
    due: dict[str, list[dt.datetime]] | None = None,
    calendar_starts: dt.date | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The data-quality page as one HTML document, from the published warehouse ``con``."""
    now = now or dt.datetime.now(dt.UTC)
    feeds, broken, quarter = gather(con, partners, due, calendar_starts, now)
    by_partner: dict[str, list[FeedQuality]] = {}
    for q in feeds:
        by_partner.setdefault(q.partner, []).append(q)
    load_id, loaded_at = audit.latest_load(con)
    quarter_end = dt.date(quarter.year + (quarter.month + 2) // 12, (quarter.month + 2) % 12 + 1, 1)
    return _env.get_template("data_quality.html.j2").render(
        area=area, by_partner=by_partner, feeds=feeds, broken=broken[:12], more=max(len(broken) - 12, 0),
        quarter=f"{quarter:%B} to {quarter_end - dt.timedelta(days=1):%B %Y}", load_id=load_id, loaded_at=loaded_at,
        months=feeds[0].months if feeds else [], generated=now.strftime("%d %B %Y %H:%M UTC"), now=now,
    )  # fmt: skip


def write(con: duckdb.DuckDBPyConnection, path: Path, **kwargs: object) -> Path:
    """Write the page to ``path`` atomically (a reader never sees half a page); ``kwargs`` as :func:`render`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(con, **kwargs))  # type: ignore[arg-type]
    tmp.replace(path)
    return path
