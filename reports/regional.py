"""The regional picture for a hub member's board pack, read from the hub warehouse (``hub.duckdb``, schema
``region``): for a measure and period, each partnership's published figure and rank, the regional total where the
hub shows one, and the date of each partnership's figures.

Where the hub warehouse is comes from configuration, not code: ``YOS_HUB_WAREHOUSE`` (the file) and
``YOS_HUB_MEMBER`` (this partnership's id in the hub) in the run's environment. The hub puts both in each member's
job variables (``hub.config.Member.job_env``); a partnership run on its own sets neither, and its board pack is as it
always was. Without ``YOS_HUB_MEMBER`` this partnership is found by its LA code.

The file is opened read-only with no file or network access (the hub builds a new one aside and swaps it in, so no
writer holds the live file), and only ``region`` is read: published, disclosure-controlled measures, never a row
about a child. A suppressed figure stays suppressed here: it is passed on as suppressed, never as a number, and is
not ranked."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.db import connect_analyst

WAREHOUSE_ENV, MEMBER_ENV = "YOS_HUB_WAREHOUSE", "YOS_HUB_MEMBER"

_MEASURES = """select partnership, partnership_name, measure, period, period_start, value, better, provisional,
                      suppressed, rank, ranked_of, figures_as_at, current
               from region.measures"""
_TOTALS = """select measure, period, kind, members, members_reporting, members_suppressed, shown, value
             from region.totals"""


@dataclass(frozen=True)
class Peer:
    """One partnership's published figure for a measure and period, as the hub holds it."""

    partnership: str
    name: str
    value: float | None  # None when suppressed (never a number) or when it has no figure
    suppressed: bool
    rank: int | None  # 1 = best, among the partnerships with a figure; None when suppressed or not ranked
    as_at: dt.datetime | None  # when its figures were loaded (the hub's figures_as_at)
    current: bool  # False: the hub kept its last good figures (its latest night failed, or its file was lost)
    ours: bool


@dataclass(frozen=True)
class Picture:
    """The region for one measure and period."""

    period: str
    provisional: bool
    peers: list[Peer]  # the ranked first, best first; then the suppressed; then those with no figure
    better: str | None
    rank: int | None  # this partnership's
    ranked_of: int  # how many partnerships have a figure that is ranked
    members: int
    total: float | None  # the regional total, where the hub shows one
    total_why_not: str | None  # why there is no total, in a sentence for a board
    reporting: int  # partnerships whose figures make up the total

    @property
    def ours(self) -> Peer | None:
        return next((p for p in self.peers if p.ours), None)

    def rank_text(self) -> str:
        """'3rd of 9', or why this partnership is not ranked."""
        me = self.ours
        if self.better not in ("lower", "higher"):
            return "not ranked (no better direction)"
        if me is None or me.suppressed:
            return "not ranked (our figure is suppressed)" if me else "not ranked (no figure)"
        if self.rank is None:
            return "not ranked (no figure)"
        # "3rd of 9"; "1st of 2 with a figure" where others' figures are suppressed or missing
        rest = "" if self.ranked_of == len(self.peers) else " with a figure"
        return f"{ordinal(self.rank)} of {self.ranked_of}{rest}"


@dataclass
class Region:
    """What the hub warehouse says about this partnership's region."""

    name: str  # the region's name, e.g. East Midlands (else the hub's)
    hub_name: str
    built_at: dt.datetime | None
    member: str
    member_name: str
    status: str  # this partnership's status in the hub ("current, as at ...", "last good figures, ...")
    members: int
    _rows: dict[tuple[str, str], list[dict]] = field(default_factory=dict, repr=False)
    _totals: dict[tuple[str, str], dict] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"Region ({self.name})"

    def picture(self, measure: str, period: str | None) -> Picture | None:
        """The region for ``measure`` in ``period`` (the board pack's latest for it); if the hub has no figures for
        that period, its latest complete period with a figure of ours (else its latest); None if it has none."""
        if (measure, period) not in self._rows:
            held = sorted(
                [
                    ((rows[0]["period_start"] or dt.date.min, p), rows)
                    for (m, p), rows in self._rows.items()
                    if m == measure
                ],
                key=lambda x: x[0],
            )
            ours = [(k, rows) for k, rows in held if any(r["partnership"] == self.member for r in rows)]
            complete = [(k, rows) for k, rows in ours if not any(r["provisional"] for r in rows)]
            chosen = (complete or ours or held or [None])[-1]
            if chosen is None:
                return None
            period = chosen[0][1]
        rows = self._rows[(measure, period)]
        total = self._totals.get((measure, period), {})
        peers = []
        for r in rows:
            suppressed = bool(r["suppressed"])
            peers.append(
                Peer(
                    partnership=r["partnership"],
                    name=r["partnership_name"] or r["partnership"],
                    value=None if suppressed else r["value"],
                    suppressed=suppressed,
                    rank=None if suppressed else r["rank"],
                    as_at=r["figures_as_at"],
                    current=bool(r["current"]),
                    ours=r["partnership"] == self.member,
                )
            )
        peers.sort(key=lambda p: (p.rank is None, not p.suppressed, p.rank or 0, p.name))
        ranked = [p for p in peers if p.rank is not None]
        me = next((p for p in peers if p.ours), None)
        better = rows[0]["better"]
        if total.get("shown") and total.get("value") is not None:
            why_not = None
        elif total.get("kind") == "not additive":
            why_not = "no regional total: a ratio does not add up across partnerships"
        elif total.get("members_suppressed"):
            why_not = ("regional total withheld: a partnership's figure is suppressed, and the total would let it "
                       "be worked out")  # fmt: skip
        else:
            why_not = "no regional total for this period"
        return Picture(
            period=period,
            provisional=any(r["provisional"] for r in rows),
            peers=peers,
            better=better,
            rank=me.rank if me else None,
            ranked_of=len(ranked),
            members=self.members,
            total=None if why_not else total["value"],
            total_why_not=why_not,
            reporting=int(total.get("members_reporting") or len(rows)),
        )


@dataclass(frozen=True)
class Unavailable:
    """This partnership is a hub member, but its regional peers cannot be shown; ``reason`` says why."""

    reason: str


def configured() -> tuple[Path | None, str | None]:
    """The hub warehouse and this partnership's id in the hub, from the environment (None, None: not a member)."""
    path = os.environ.get(WAREHOUSE_ENV, "").strip()
    member = os.environ.get(MEMBER_ENV, "").strip()
    return (Path(path) if path else None), (member or None)


def read(la_code: str, path: Path | None = None, member: str | None = None) -> Region | Unavailable | None:
    """The region as the hub warehouse at ``path`` has it for this partnership (``member``, else found by
    ``la_code``); by default both from the environment. None when this partnership is not a hub member;
    :class:`Unavailable` when the file is absent, unreadable or does not list this partnership."""
    if path is None and member is None:
        path, member = configured()
    if path is None:
        return None
    name = path.name
    if not path.exists():
        return Unavailable(f"the hub warehouse ({name}) has not been built yet")
    try:
        con = connect_analyst(path)
    except (duckdb.Error, OSError) as e:
        return Unavailable(f"the hub warehouse ({name}) could not be opened ({_first_line(e)})")
    try:
        return _read(con, la_code, member, name)
    except duckdb.Error as e:
        return Unavailable(f"the hub warehouse ({name}) could not be read ({_first_line(e)})")
    finally:
        con.close()


def _read(con: duckdb.DuckDBPyConnection, la_code: str, member: str | None, name: str) -> Region | Unavailable:
    hub_name, region_name, members, built_at = con.execute(
        "select hub_name, region_name, members, built_at from region.about"
    ).fetchone()
    row = con.execute(
        "select partnership, partnership_name, status from region.partnerships where "
        + ("partnership = ?" if member else "la_code = ?"),
        [member or la_code],
    ).fetchone()
    if row is None:
        who = f"partnership {member!r}" if member else f"a partnership for {la_code}"
        return Unavailable(f"the hub warehouse ({name}) does not list {who}")
    region = Region(
        name=region_name or hub_name or "the hub",
        hub_name=hub_name or "",
        built_at=built_at,
        member=row[0],
        member_name=row[1] or row[0],
        status=row[2] or "",
        members=int(members or 0),
    )
    cur = con.execute(_MEASURES)
    cols = [d[0] for d in cur.description]
    for values in cur.fetchall():
        r = dict(zip(cols, values, strict=True))
        region._rows.setdefault((r["measure"], r["period"]), []).append(r)
    cur = con.execute(_TOTALS)
    cols = [d[0] for d in cur.description]
    for values in cur.fetchall():
        t = dict(zip(cols, values, strict=True))
        region._totals[(t["measure"], t["period"])] = t
    return region


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def newer_than(path: Path) -> bool:
    """Whether the configured hub warehouse was rebuilt after ``path`` was written (so a board pack at ``path`` shows
    older regional figures than the hub now holds)."""
    hub, _ = configured()
    try:
        return hub is not None and hub.stat().st_mtime > path.stat().st_mtime
    except OSError:
        return hub is not None and hub.exists()


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
