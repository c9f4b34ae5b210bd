"""The hub warehouse (``<hub data>/hub.duckdb``): every member partnership's published, disclosure-controlled
measures side by side, with regional totals and each partnership's rank. Rebuilt after each member's nightly.

It reads nothing but each member's own published file (``<data dir>/yos.duckdb``), ATTACHed read-only, and of it only
``published.measures`` for its own LA (the figures the partnership's disclosure control already let out; children
living in another LA are that LA's partnership's to report), ``core.partnership``
(its name and area) and the time of its latest load (``audit.loads``). No row about a child ever reaches the hub.
The figures are copied in, so the hub file stands alone: analysts open it without touching a partnership's files,
and it is built aside and swapped in atomically like the partnerships' own (the previous kept as hub.prev.duckdb).

Faults stay local: a member whose published file cannot be read keeps the figures the previous hub file held for it,
with their date; a member whose last night failed keeps its published file's figures (a partnership replaces that
file only after a good load), and both are marked (``region.partnerships.status``, ``region.measures.current``).

Disclosure rule for a regional total: the hub holds only published figures, so a total is the sum of what each
member published. It is shown only when no member's figure for that measure and period is suppressed: a total
over the members that published, beside a member whose figure is suppressed, would be read as the region and invite
subtraction from a region-wide figure published elsewhere; so where one or more is suppressed the total (numerator,
denominator and value) is suppressed too, and says why. Ratios (relative rates) have no regional total.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from hub.config import Hub

# How a unit adds up across partnerships: a rate is recomputed from the summed numerators and denominators (times
# its scale), a count is summed, a ratio does not add up. Units not listed here get no regional total.
RATE_UNITS = {"%": 100.0, "reoffences": 1.0, "per 1,000 aged 10-17": 1_000.0, "per 10,000 aged 10-17": 10_000.0,
              "per 100,000 aged 10-17": 100_000.0}  # fmt: skip
COUNT_UNITS = {"offences", "children"}

MEASURE_COLUMNS = (
    "ordinal, kpi, measure, title, la_code, period, period_start, numerator, denominator, value, unit, better, "
    "provisional, suppressed, england_value, comparator_name, comparator_value, definition"
)


@dataclass(frozen=True)
class MemberState:
    """What the hub knows of a member's last nightly run (from the Prefect API): its state and when it ended."""

    state: str | None = None
    at: dt.datetime | None = None


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def build(hub: Hub, states: dict[str, MemberState] | None = None, now: dt.datetime | None = None) -> Path:
    """Rebuild the hub warehouse from every member's published file; its path."""
    states = states or {}
    now = now or dt.datetime.now(dt.UTC)
    hub.data_dir.mkdir(parents=True, exist_ok=True)
    live, nxt, prev = hub.warehouse, hub.data_dir / "hub.next.duckdb", hub.data_dir / "hub.prev.duckdb"
    for p in (nxt, nxt.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    con = duckdb.connect(str(nxt))
    try:
        _create_tables(con)
        carried = None
        if live.exists():
            try:
                con.execute(f"attach {_quote(str(live))} as previous (read_only)")
                carried = "previous"
            except duckdb.Error:
                carried = None
        for m in hub.members.values():
            st = states.get(m.id, MemberState())
            source, error = _copy_member(con, m.id, m.published_db)
            if source is None and carried:
                source = _carry_over(con, m.id, error)
            if source is None:
                con.execute(
                    "insert into region.partnership_figures values (?, null, null, null, 'none', ?, ?, ?)",
                    [m.id, error, st.state, st.at],
                )
            else:
                con.execute(
                    "update region.partnership_figures set last_night_state = ?, last_night_at = ? where partnership = ?",
                    [st.state, st.at, m.id],
                )
        if carried:
            con.execute("detach previous")
        _create_views(con, list(hub.members), hub, now)
        con.execute("checkpoint")
    finally:
        con.close()
    if live.exists():
        os.replace(live, prev)
    os.replace(nxt, live)
    return live


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema region")
    con.execute(
        f"""create table region.member_measures as
            select ''::varchar as partnership, ''::varchar as partnership_name, {MEASURE_COLUMNS},
                   null::timestamptz as figures_as_at
            from (select 0::integer as ordinal, ''::varchar as kpi, ''::varchar as measure, ''::varchar as title,
                         ''::varchar as la_code, ''::varchar as period, null::date as period_start,
                         0::hugeint as numerator, 0::hugeint as denominator, 0::double as value,
                         ''::varchar as unit, ''::varchar as better, false as provisional, false as suppressed,
                         0::double as england_value, ''::varchar as comparator_name, 0::double as comparator_value,
                         ''::varchar as definition) limit 0"""
    )
    con.execute(
        """create table region.partnership_figures (
               partnership varchar primary key, partnership_name varchar, la_code varchar,
               figures_as_at timestamptz, source varchar, source_note varchar,
               last_night_state varchar, last_night_at timestamptz)"""
    )


def _copy_member(con: duckdb.DuckDBPyConnection, mid: str, db: Path) -> tuple[str | None, str | None]:
    """Copy a member's published measures in; ('published', None), or (None, why not)."""
    if not db.exists():
        return None, f"no published file at {db}"
    alias = f"member_{mid.replace('-', '_')}"
    try:
        con.execute(f"attach {_quote(str(db))} as {alias} (read_only)")
    except duckdb.Error as e:
        return None, f"its published file could not be opened: {str(e).splitlines()[0]}"
    try:
        con.execute("begin")
        name, la = con.execute(f"select partnership_name, la_code from {alias}.core.partnership").fetchone()
        as_at = con.execute(f"select max(finished_at) from {alias}.audit.loads").fetchone()[0]
        con.execute(
            f"""insert into region.member_measures
                select ?, ?, {MEASURE_COLUMNS}, ?::timestamptz from {alias}.published.measures
                where la_code = ?""",
            [mid, name, as_at, la],
        )
        con.execute(
            "insert into region.partnership_figures values (?, ?, ?, ?, 'published', null, null, null)",
            [mid, name, la, as_at],
        )
        con.execute("commit")
        return "published", None
    except duckdb.Error as e:
        con.execute("rollback")
        return None, f"its published file could not be read: {str(e).splitlines()[0]}"
    finally:
        con.execute(f"detach {alias}")


def _carry_over(con: duckdb.DuckDBPyConnection, mid: str, why: str | None) -> str | None:
    """The member's figures as the previous hub file held them (its last good ones), or None if it held none."""
    row = con.execute(
        "select partnership_name, la_code, figures_as_at from previous.region.partnership_figures "
        "where partnership = ? and source <> 'none'",
        [mid],
    ).fetchone()
    if row is None:
        return None
    con.execute(
        "insert into region.member_measures select * from previous.region.member_measures where partnership = ?", [mid]
    )
    con.execute(
        "insert into region.partnership_figures values (?, ?, ?, ?, 'carried over', ?, null, null)",
        [mid, row[0], row[1], row[2], f"kept from the previous hub build: {why}"],
    )
    return "carried over"


def _create_views(con: duckdb.DuckDBPyConnection, ids: list[str], hub: Hub, now: dt.datetime) -> None:
    rate_units = " ".join(f"when {_quote(u)} then {s}" for u, s in RATE_UNITS.items())
    count_units = ", ".join(_quote(u) for u in COUNT_UNITS)
    con.execute(
        """create table region.about as select ?::varchar as hub_name, ?::varchar as region_code,
           ?::varchar as region_name, ?::integer as members, ?::timestamptz as built_at""",
        [hub.name, hub.region_code, hub.region_name, len(ids), now],
    )
    con.execute(
        """create view region.partnerships as
           select partnership, partnership_name, la_code, figures_as_at, source, source_note,
                  last_night_state, last_night_at,
                  source = 'published' and coalesce(last_night_state, 'COMPLETED') = 'COMPLETED' as current,
                  case
                    when source = 'none' then 'no figures yet: ' || coalesce(source_note, '')
                    when source = 'carried over' then 'last good figures, as at ' || strftime(figures_as_at, '%Y-%m-%d')
                         || ' (' || source_note || ')'
                    when coalesce(last_night_state, 'COMPLETED') <> 'COMPLETED'
                      then 'last good figures, as at ' || strftime(figures_as_at, '%Y-%m-%d') || ': the night of '
                           || strftime(last_night_at, '%Y-%m-%d') || ' ended ' || lower(last_night_state)
                    else 'current, as at ' || strftime(figures_as_at, '%Y-%m-%d')
                  end as status
           from region.partnership_figures order by partnership"""
    )
    con.execute(
        """create view region.measures as
            select m.partnership, m.partnership_name, m.ordinal, m.kpi, m.measure, m.title, m.la_code, m.period,
                   m.period_start, m.numerator, m.denominator, m.value, m.unit, m.better, m.provisional,
                   m.suppressed,
                   case when m.value is not null and m.better in ('lower', 'higher') then
                     rank() over (partition by m.measure, m.period, m.value is not null
                                  order by case m.better when 'lower' then m.value else -m.value end)
                   end as rank,
                   count(m.value) filter (where m.better in ('lower', 'higher'))
                     over (partition by m.measure, m.period) as ranked_of,
                   m.england_value, m.figures_as_at, p.current
            from region.member_measures as m join region.partnerships as p using (partnership)"""
    )
    con.execute(
        f"""create view region.totals as
            with per as (
              select measure, any_value(ordinal) as ordinal, any_value(title) as title, period,
                     any_value(period_start) as period_start, any_value(unit) as unit, any_value(better) as better,
                     case when any_value(unit) in ({count_units}) then 'count'
                          when any_value(unit) in ({", ".join(_quote(u) for u in RATE_UNITS)}) then 'rate'
                          else 'not additive' end as kind,
                     case any_value(unit) {rate_units} else 1.0 end as scale,
                     count(*) as members_reporting,
                     count(*) filter (where suppressed or numerator is null
                                      or (unit in ({", ".join(_quote(u) for u in RATE_UNITS)})
                                          and denominator is null)) as members_suppressed,
                     sum(numerator) as sum_numerator, sum(denominator) as sum_denominator,
                     bool_or(provisional) as provisional, bool_and(current) as all_current,
                     min(figures_as_at) as oldest_figures_as_at,
                     any_value(england_value) as england_value
              from region.measures group by measure, period
            )
            select ordinal, measure, title, period, period_start, unit, better, kind,
                   (select members from region.about) as members, members_reporting, members_suppressed,
                   members_reporting = (select members from region.about) as complete,
                   kind <> 'not additive' and members_suppressed = 0 as shown,
                   case when kind = 'not additive' then 'a ratio has no regional total'
                        when members_suppressed > 0 then 'suppressed: ' || members_suppressed
                             || ' partnership(s) figure suppressed, so the total would reveal it by subtraction'
                   end as note,
                   case when kind <> 'not additive' and members_suppressed = 0 then sum_numerator end as numerator,
                   case when kind = 'rate' and members_suppressed = 0 then sum_denominator end as denominator,
                   case when members_suppressed > 0 then null
                        when kind = 'count' then sum_numerator::double
                        when kind = 'rate' and sum_denominator > 0
                          then round(scale * sum_numerator / sum_denominator, 1)
                   end as value,
                   provisional, all_current, oldest_figures_as_at, england_value
            from per order by ordinal, period_start"""
    )
    cols = ",\n".join(f"max(m.value) filter (where m.partnership = {_quote(i)}) as {duckdb_ident(i)}" for i in ids)
    con.execute(
        f"""create view region.side_by_side as
            select m.ordinal, m.measure, m.title, m.period, m.unit, m.better,
                   {cols},
                   any_value(t.value) as region, any_value(t.note) as region_note,
                   any_value(m.england_value) as england
            from region.measures as m
            left join region.totals as t using (measure, period)
            group by all order by m.ordinal, m.period"""
    )
    comments = {
        "region.partnerships": "Each member partnership: the date of its figures, where they came from, its last night "
        "and whether the figures are current.",
        "region.measures": "Every member's published measures (already disclosure-controlled), with its rank among the "
        "members with a figure (1 = best; only measures with a better direction) and the date of its figures.",
        "region.totals": "The region: numerators and denominators summed across members, the rate recomputed; "
        "suppressed wherever any member's figure is suppressed; ratios have no total.",
        "region.side_by_side": "One row per measure and period, one column per partnership, beside the regional total "
        "and England.",
    }
    for view, text in comments.items():
        con.execute(f"comment on view {view} is {_quote(text)}")


def duckdb_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
