"""The problem lifecycle: each distinct problem (partner, feed, rule, column) is opened when first seen, re-checked
on every later extract of that feed, and closed when an extract no longer shows it. A held-back extract can only
speak for whole-extract rules, so it never closes a row-level problem. Alerts mark each problem new, still failing
since a date, or fixed; problems that persist past a configured number of extracts are escalated."""

from __future__ import annotations

import datetime as dt

import duckdb


def update(con: duckdb.DuckDBPyConnection, load_id: int, partner: str, feed: str, held_back: bool) -> None:
    """Bring the problems of ``feed`` up to date with load ``load_id``. Runs in the caller's transaction."""
    now = dt.datetime.now(dt.UTC)
    con.execute(
        """create or replace temp table seen as
           select rule_id, coalesce(column_name, '') as column_name, min(severity) as severity, count(*) as n
           from quarantine.row_problems where load_id = $load group by all
           union all
           select rule_id, '', min(severity), 1 from audit.extract_problems where load_id = $load group by all""",
        {"load": load_id},
    )
    key = "p.partner = $partner and p.feed = $feed and p.closed_load is null"
    # still failing
    con.execute(
        f"""update quarantine.problems p set last_seen_load = $load, last_seen_at = $now,
               extracts_seen = extracts_seen + 1, last_rows = s.n
            from seen s where {key} and p.rule_id = s.rule_id and p.column_name = s.column_name""",
        {"load": load_id, "now": now, "partner": partner, "feed": feed},
    )
    # new
    con.execute(
        """insert into quarantine.problems
           select $partner, $feed, s.rule_id, s.column_name, s.severity, $load, $now, $load, $now, 1, s.n,
                  null, null, null
           from seen s where not exists (
               select 1 from quarantine.problems p where p.partner = $partner and p.feed = $feed
               and p.closed_load is null and p.rule_id = s.rule_id and p.column_name = s.column_name)""",
        {"load": load_id, "now": now, "partner": partner, "feed": feed},
    )
    # fixed: open problems this extract no longer shows (a held-back extract speaks only for whole-extract rules)
    only_extract_rules = "and (p.rule_id like 'header.%' or p.rule_id like 'file.%')" if held_back else ""
    con.execute(
        f"""update quarantine.problems p set closed_load = $load, closed_at = $now
            where {key} and p.last_seen_load <> $load {only_extract_rules}""",
        {"load": load_id, "now": now, "partner": partner, "feed": feed},
    )
    con.execute("drop table seen")


def escalations(con: duckdb.DuckDBPyConnection, after_extracts: int) -> list[tuple]:
    """Open problems seen in at least ``after_extracts`` extracts and not yet escalated; marks them escalated."""
    # literals, not bound parameters: this runs on every night, including one with nothing new (see sql_literal)
    due = f"closed_load is null and escalated_at is null and extracts_seen >= {int(after_extracts)}"
    rows = con.execute(
        "select partner, feed, rule_id, column_name, opened_at, extracts_seen, last_rows from quarantine.problems "
        f"where {due} order by partner, feed"
    ).fetchall()
    con.execute(f"update quarantine.problems set escalated_at = now() where {due}")
    return rows
