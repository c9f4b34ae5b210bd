"""The audit tables: what was fetched (``audit.fetches``), loaded (``audit.loads``), found wrong with a whole
extract (``audit.extract_problems``), checked (``audit.validation_results``), sent (``audit.alerts``) and reminded
(``audit.reminders``). Every statement against them outside the loading recipe's own steps is here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple

import duckdb

from expectations.extract_rules import ExtractProblem
from expectations.sql import sql_literal
from warehouse.landing import Extract

# audit.fetches


def record_fetch(
    con: duckdb.DuckDBPyConnection,
    *,
    partner: str,
    feed: str,
    url: str,
    attempt: int,
    status: int | None,
    size: int | None,
    duration_ms: int,
    outcome: str,
    detail: str | None,
) -> None:
    """One attempt to fetch a feed (the URL never carries a secret)."""
    values = [partner, feed, url, attempt, status, size, duration_ms, outcome, detail]
    literals = [sql_literal(v) for v in values]
    # written as literals, not bound (see sql_literal): a 304 is recorded without importing pandas
    con.execute(f"insert into audit.fetches values ({', '.join(literals[:4])}, now(), {', '.join(literals[4:])})")


# audit.loads


def finished_load(con: duckdb.DuckDBPyConnection, extract_id: str) -> int | None:
    """The load that loaded or held back ``extract_id`` since its bytes last arrived, if any (an extract re-sent
    when not the feed's current state is loaded again: :func:`warehouse.landing.resent`)."""
    row = con.execute(
        """select max(l.load_id) from audit.loads l join landing.extracts e using (extract_id)
           where l.extract_id = ? and l.status in ('loaded', 'held_back')
             and (e.resent_at is null or l.started_at >= e.resent_at)""",
        [extract_id],
    ).fetchone()
    return row[0] if row else None


def start_load(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    *,
    contract_version: int,
    collection_year: int | None,
    pseudonym_key_version: int,
) -> int:
    """Open the next load of ``extract`` (status ``failed`` until it finishes); returns its id."""
    load_id = con.execute("select coalesce(max(load_id), 0) + 1 from audit.loads").fetchone()[0]  # one writer
    con.execute(
        "insert into audit.loads (load_id, extract_id, feed, partner, started_at, status, contract_version, "
        "collection_year, pseudonym_key_version) values (?, ?, ?, ?, ?, 'failed', ?, ?, ?)",
        [load_id, extract.extract_id, extract.feed, extract.partner, dt.datetime.now(dt.UTC), contract_version,
         collection_year, pseudonym_key_version],
    )  # fmt: skip
    return load_id


def finish_held_back(con: duckdb.DuckDBPyConnection, load_id: int, *, rows_received: int, message: str) -> None:
    con.execute(
        "update audit.loads set status = 'held_back', finished_at = ?, rows_received = ?, rows_loaded = 0, "
        "rows_quarantined = 0, message = ? where load_id = ?",
        [dt.datetime.now(dt.UTC), rows_received, message, load_id],
    )


def finish_loaded(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    *,
    rows_received: int,
    rows_loaded: int,
    rows_quarantined: int,
    rows_with_warnings: int,
    versions_added: int,
    versions_replaced: int,
) -> None:
    con.execute(
        """update audit.loads set status = 'loaded', finished_at = ?, rows_received = ?, rows_loaded = ?,
           rows_quarantined = ?, rows_with_warnings = ?, versions_added = ?, versions_replaced = ?
           where load_id = ?""",
        [dt.datetime.now(dt.UTC), rows_received, rows_loaded, rows_quarantined, rows_with_warnings, versions_added,
         versions_replaced, load_id],
    )  # fmt: skip


def load_count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(*) from audit.loads").fetchone()[0]


def latest_load(con: duckdb.DuckDBPyConnection) -> tuple[int | None, dt.datetime | None]:
    """The newest load's id and when the last load finished (the loader's file or the published copy)."""
    return con.execute("select max(load_id), max(finished_at) from audit.loads").fetchone()


def latest_per_feed(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, int, int, int, str]]:
    """(partner, feed, status, rows received, loaded, quarantined, extract) of each feed's latest load."""
    return con.execute(
        """select partner, feed, status, rows_received, rows_loaded, rows_quarantined, extract_id
           from audit.loads qualify row_number() over (partition by feed order by load_id desc) = 1
           order by partner, feed"""
    ).fetchall()


def recent_row_counts(con: duckdb.DuckDBPyConnection, feed: str, extracts: int) -> list[int]:
    """Rows received by the last ``extracts`` loaded extracts of ``feed``, newest first."""
    return [r[0] for r in con.execute(
        "select rows_received from audit.loads where feed = ? and status = 'loaded' order by load_id desc limit ?",
        [feed, extracts]).fetchall()]  # fmt: skip


class PartnerLoad(NamedTuple):
    load_id: int
    feed: str
    extract_id: str
    status: str
    rows_received: int | None
    rows_loaded: int | None
    rows_quarantined: int | None
    rows_with_warnings: int | None
    stored_path: str
    collection_year: int | None  # the SSDA903 year whose rules it was checked against (children in care feeds)


def partner_loads(con: duckdb.DuckDBPyConnection, partner: str, load_ids: list[int]) -> list[PartnerLoad]:
    """The loads ``load_ids`` that are ``partner``'s, with where each extract is stored, by feed."""
    marks = ", ".join("?" * len(load_ids))
    rows = con.execute(
        f"""select l.load_id, l.feed, l.extract_id, l.status, l.rows_received, l.rows_loaded, l.rows_quarantined,
                   l.rows_with_warnings, e.stored_path, l.collection_year
            from audit.loads l join landing.extracts e using (extract_id)
            where l.load_id in ({marks}) and l.partner = ? order by l.feed""",
        [*load_ids, partner],
    ).fetchall()
    return [PartnerLoad(*r) for r in rows]


def load_record(con: duckdb.DuckDBPyConnection, load_id: int) -> dict:
    """One load with its extract's manifest row, by column name (the validation report's heading)."""
    cols = ["load_id", "extract_id", "feed", "partner", "status", "rows_received", "rows_loaded", "rows_quarantined",
            "rows_with_warnings", "contract_version", "received_at", "source", "bytes", "sha256", "period_start",
            "period_end", "collection_year"]  # fmt: skip
    row = con.execute(
        """select l.load_id, l.extract_id, l.feed, l.partner, l.status, l.rows_received, l.rows_loaded,
                  l.rows_quarantined, l.rows_with_warnings, l.contract_version, e.received_at, e.source, e.bytes,
                  e.sha256, e.declared_period_start, e.declared_period_end, l.collection_year
           from audit.loads l join landing.extracts e using (extract_id) where l.load_id = ?""",
        [load_id],
    ).fetchone()
    return dict(zip(cols, row, strict=True))


def extract_of_load(con: duckdb.DuckDBPyConnection, load_id: int) -> str:
    return con.execute("select extract_id from audit.loads where load_id = ?", [load_id]).fetchone()[0]


# audit.extract_problems and audit.validation_results


def record_extract_problems(
    con: duckdb.DuckDBPyConnection, load_id: int, extract: Extract, found: list[ExtractProblem]
) -> None:
    if found:
        con.executemany(
            "insert into audit.extract_problems values (?, ?, ?, ?, ?, ?, ?, ?)",
            [[load_id, extract.extract_id, extract.feed, extract.partner, p.rule_id, p.severity, p.message, p.fix]
             for p in found],
        )  # fmt: skip


def extract_problems(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple[str, str, str, str]]:
    """(rule, severity, message, fix) of each whole-extract problem load ``load_id`` found."""
    return con.execute(
        "select rule_id, severity, message, fix from audit.extract_problems where load_id = ?", [load_id]
    ).fetchall()


def record_validation_results(
    con: duckdb.DuckDBPyConnection, load_id: int, results: list[tuple[str, str, str, bool, int]]
) -> None:
    """(rule, severity, GX expectation, success, failing rows) of each rule checked by load ``load_id``."""
    con.executemany("insert into audit.validation_results values (?, ?, ?, ?, ?, ?)", [[load_id, *r] for r in results])


def validation_results(con: duckdb.DuckDBPyConnection, load_id: int) -> list[dict]:
    """Each rule load ``load_id`` checked: GX's verdict, failing rows, the first lines, message and fix."""
    keys = ["rule_id", "severity", "expectation", "success", "failing_rows", "lines", "message", "fix"]
    rows = con.execute(
        """select v.rule_id, v.severity, v.gx_expectation, v.gx_success, v.failing_rows,
                  array_to_string(list(q.line order by q.line)[1:8], ', '), any_value(q.message), any_value(q.fix)
           from audit.validation_results v
           left join quarantine.row_problems q on q.load_id = v.load_id and q.rule_id = v.rule_id
           where v.load_id = ? group by all order by v.gx_success, v.rule_id""",
        [load_id],
    ).fetchall()
    return [dict(zip(keys, r, strict=True)) for r in rows]


# audit.alerts


def record_alert(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    partner: str,
    channel: str,
    recipient: str,
    sent: bool,
    attempts: int,
    problems: int,
    error: str | None,
    copy: Path,
) -> None:
    """One delivery of an alert (``copy``: the message as sent, or to resend). Never a webhook's URL."""
    con.execute(
        "insert into audit.alerts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, partner, channel, recipient, dt.datetime.now(dt.UTC), "sent" if sent else "failed", attempts,
         problems, error, str(copy)],
    )  # fmt: skip


class FailedDelivery(NamedTuple):
    run_id: str
    partner: str
    channel: str
    recipient: str
    problems: int
    copy: Path


def failed_deliveries(con: duckdb.DuckDBPyConnection) -> list[FailedDelivery]:
    """Every delivery whose last attempt failed."""
    rows = con.execute(
        """select run_id, partner, channel, recipient, problems, copy_path from audit.alerts
           qualify row_number() over (partition by run_id, partner, channel, recipient order by sent_at desc) = 1
               and status = 'failed'"""
    ).fetchall()
    return [FailedDelivery(*r[:5], Path(r[5])) for r in rows]


# audit.reminders


def sent_notices(con: duckdb.DuckDBPyConnection) -> set[tuple[str, dt.datetime, str]]:
    """(feed, due time in UTC, kind) of every late-extract notice sent."""
    return {(f, d.astimezone(dt.UTC), k) for f, d, k in con.execute(
        "select feed, due_at, kind from audit.reminders where status = 'sent'").fetchall()}  # fmt: skip


def record_notice(
    con: duckdb.DuckDBPyConnection,
    *,
    partner: str,
    feed: str,
    due_at: dt.datetime,
    kind: str,
    recipient: str,
    status: str,
    error: str | None,
) -> None:
    con.execute(
        "insert into audit.reminders values (?, ?, ?, ?, ?, ?, ?, ?)",
        [partner, feed, due_at, kind, recipient, dt.datetime.now(dt.UTC), status, error],
    )


# A fetch-failure episode, per partner: since (timestamp), nights, last_night (date), noticed_night, feeds,
# partner_told. The notifier (notify/fetch_failures.py) decides; this keeps it.
_EPISODE = ("since", "nights", "last_night", "noticed_night", "feeds", "partner_told")


def fetch_failure_episodes(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Every partner whose fetch-failure episode is in progress, with its state."""
    rows = con.execute(f"select partner, {', '.join(_EPISODE)} from audit.fetch_failure_episodes").fetchall()
    return {r[0]: dict(zip(_EPISODE, r[1:], strict=True)) for r in rows}


def save_fetch_failure_episode(con: duckdb.DuckDBPyConnection, partner: str, episode: dict) -> None:
    con.execute(
        f"insert or replace into audit.fetch_failure_episodes (partner, {', '.join(_EPISODE)}) "
        f"values (?, {', '.join('?' * len(_EPISODE))})",
        [partner, *(episode[k] for k in _EPISODE)],
    )


def end_fetch_failure_episode(con: duckdb.DuckDBPyConnection, partner: str) -> None:
    con.execute("delete from audit.fetch_failure_episodes where partner = ?", [partner])
