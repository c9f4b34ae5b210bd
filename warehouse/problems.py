"""The problem lifecycle: each distinct problem (partner, feed, rule, column) is opened when first seen, re-checked
on every later extract of that feed, and closed when an extract no longer shows it. A held-back extract can only
speak for whole-extract rules, so it never closes a row-level problem. Alerts mark each problem new, still failing
since a date, or fixed; problems that persist past a configured number of extracts are escalated.

The rows behind them are here too: ``quarantine.row_problems``, one row per failing line and rule (the failing-row
SQL comes from the contract, :mod:`expectations.validate`), never an identifier's value, a date of birth or a
full postcode."""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from expectations.sql import sql_literal
from expectations.validate import malformed_problem


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


# Problems the YOS data lead hears of at once, not after a number of extracts: a snapshot held back because it would
# withdraw much of its feed (the feed's figures stand still until the partner acts).
ESCALATED_AT_ONCE = ("extract.snapshot_withdraws",)


def escalations(con: duckdb.DuckDBPyConnection, after_extracts: int) -> list[tuple]:
    """Open problems seen in at least ``after_extracts`` extracts (or of a rule in :data:`ESCALATED_AT_ONCE`) and
    not yet escalated; marks them escalated."""
    # literals, not bound parameters: this runs on every night, including one with nothing new (see sql_literal)
    at_once = ", ".join(f"'{r}'" for r in ESCALATED_AT_ONCE)
    due = (
        f"closed_load is null and escalated_at is null and (extracts_seen >= {int(after_extracts)} "
        f"or rule_id in ({at_once}))"
    )
    rows = con.execute(
        "select partner, feed, rule_id, column_name, opened_at, extracts_seen, last_rows from quarantine.problems "
        f"where {due} order by partner, feed"
    ).fetchall()
    con.execute(f"update quarantine.problems set escalated_at = now() where {due}")
    return rows


# quarantine.row_problems


def record_malformed(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    extract_id: str,
    feed: str,
    partner: str,
    rejects: list[tuple[int, str]],
) -> None:
    """A ``line.malformed`` problem for each line staging could not read (``rejects``: line and DuckDB's kind)."""
    if not rejects:
        return
    con.executemany(
        "insert into quarantine.row_problems values (?, ?, ?, ?, ?, 'line.malformed', 'malformed', 'error', "
        "NULL, NULL, ?, ?)",
        [[load_id, extract_id, feed, partner, line, *malformed_problem(kind)] for line, kind in rejects],
    )


def minimised_value(withheld: list[str] | tuple[str, ...]) -> str:
    """The expression over a failing row's problem (``value``, ``column_name``) that stores its value with the value
    of each column in ``withheld`` replaced by ``(withheld)``; a blank stays ``(blank)``, so the problem still says
    which. A rule's value is one column's value, or ``col=value; col=value`` for a rule about several."""
    if not withheld:
        return "value"
    names = ", ".join(sql_literal(c) for c in withheld)
    alternatives = "|".join(re.escape(c) for c in withheld)
    return (
        f"case when column_name in ({names}) then if(value = '(blank)', value, '(withheld)') "
        f"else regexp_replace(value, {sql_literal(f'(^|; )({alternatives})=[^(;][^;]*')}, '\\1\\2=(withheld)', 'g') end"
    )


def quarantine(
    con: duckdb.DuckDBPyConnection, load_id: int, failing_rows: list[str], withheld: tuple[str, ...] = ()
) -> dict[str, int]:
    """Record the rows each query of ``failing_rows`` finds (in ``quarantine.row_problems``' columns), without the
    values of the columns ``withheld`` (identifiers, dates of birth, postcodes: what loading minimises); returns
    every problem of load ``load_id`` counted by rule.

    The warehouse does not need such a value: the partner's alert re-reads its own rows from the landed file, and
    the rule, column, line, message and fix say what is wrong."""
    for query in failing_rows:
        con.execute(
            f"insert into quarantine.row_problems select * replace ({minimised_value(withheld)} as value) from "
            f"((select * from quarantine.row_problems limit 0) union all ({query}))"
        )
    return dict(
        con.execute(
            "select rule_id, count(*) from quarantine.row_problems where load_id = ? group by rule_id", [load_id]
        ).fetchall()
    )


def quarantined_and_warned(con: duckdb.DuckDBPyConnection, load_id: int) -> tuple[int, int]:
    """Lines of load ``load_id`` with an error (quarantined), and lines with only warnings (loaded)."""
    return con.execute(
        """select count(distinct line) filter (where severity = 'error'),
                  count(distinct line) filter (where severity = 'warning' and line not in (
                      select line from quarantine.row_problems where load_id = $1 and severity = 'error'))
           from quarantine.row_problems where load_id = $1""",
        [load_id],
    ).fetchone()


def row_problems(con: duckdb.DuckDBPyConnection, load_id: int, limit: int) -> list[tuple]:
    """The first ``limit`` (line, rule, severity, column, message, fix) of load ``load_id``, by line."""
    return con.execute(
        "select line, rule_id, severity, column_name, message, fix from quarantine.row_problems "
        "where load_id = ? order by line, rule_id limit ?",
        [load_id, limit],
    ).fetchall()


def by_rule(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple]:
    """(rule, severity, column, message, fix, rows, first 12 lines) of load ``load_id``, errors first."""
    return con.execute(
        """select rule_id, severity, any_value(column_name), any_value(message), any_value(fix),
                  count(*), list(line order by line)[1:12]
           from quarantine.row_problems where load_id = ? group by rule_id, severity
           order by severity, count(*) desc""",
        [load_id],
    ).fetchall()


def malformed_lines(con: duckdb.DuckDBPyConnection, load_id: int) -> int:
    return con.execute(
        "select count(*) from quarantine.row_problems where load_id = ? and rule_id = 'line.malformed'", [load_id]
    ).fetchone()[0]


# quarantine.problems, as alerts read them


def seen_in(
    con: duckdb.DuckDBPyConnection, partner: str, feed: str, rule_id: str, column: str, load_id: int
) -> tuple[int, dt.datetime, int] | None:
    """(opened load, opened at, extracts seen) of the problem load ``load_id`` last saw, if it saw it."""
    return con.execute(
        """select opened_load, opened_at, extracts_seen from quarantine.problems
           where partner = ? and feed = ? and rule_id = ? and column_name = ? and last_seen_load = ?
           order by opened_load desc limit 1""",
        [partner, feed, rule_id, column, load_id],
    ).fetchone()


def fixed_by(con: duckdb.DuckDBPyConnection, partner: str, load_ids: list[int]) -> list[tuple]:
    """(feed, rule, column, opened at) of ``partner``'s problems that one of ``load_ids`` closed."""
    marks = ", ".join("?" * len(load_ids))
    return con.execute(
        f"""select feed, rule_id, column_name, opened_at from quarantine.problems
            where partner = ? and closed_load in ({marks}) order by feed, rule_id""",
        [partner, *load_ids],
    ).fetchall()
