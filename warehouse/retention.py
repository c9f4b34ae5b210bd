"""Storage limitation: delete what is older than each feed's retention period, and say what was deleted.

For each feed, rows whose event date (the contract's period column, else ``_as_of``) is before the cut-off are
deleted from history (every version), landed files whose period ended before the cut-off are deleted from the
landing zone (their manifest row stays, marked deleted, so the record of what arrived survives), and the row
problems of those files go with them. One ``audit.retention`` row per feed per run records the counts.

Copies of alerts in ``<data>/outbox/`` hold partners' failing rows as sent: each is deleted once older than
``alerts.outbox_retention_days`` (:func:`prune_outbox`, by this run and at each night's alerting), except a copy
whose delivery failed and awaits a resend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from expectations.contract import all_contracts
from warehouse import audit, unchanged_rows


@dataclass(frozen=True)
class Applied:
    feed: str
    years: int
    cutoff: dt.date
    history_rows_deleted: int
    landed_files_deleted: int
    row_problems_deleted: int


def cutoff_for(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


DEFAULT_OUTBOX_DAYS = 30  # alerts.outbox_retention_days's default (the caller passes the configured one)


def prune_outbox(
    con: duckdb.DuckDBPyConnection,
    outbox: Path,
    days: int,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> list[Path]:
    """Delete the alert copies under ``outbox`` (one folder per run) last written more than ``days`` ago, except a
    copy awaiting resend (its delivery's last attempt failed), and the run folders left empty. Returns the copies
    deleted (or, with ``dry_run``, that would be)."""
    if not outbox.is_dir():
        return []
    cutoff = (now or dt.datetime.now(dt.UTC)).timestamp() - days * 86400
    waiting = {f.copy.resolve() for f in audit.failed_deliveries(con)}
    gone = []
    for folder in sorted(p for p in outbox.iterdir() if p.is_dir() and not p.is_symlink()):
        emptied = False
        for copy in sorted(folder.iterdir()):
            if copy.is_file() and not copy.is_symlink() and copy.stat().st_mtime < cutoff:
                if copy.resolve() in waiting:
                    continue
                if not dry_run:
                    copy.unlink(missing_ok=True)
                    emptied = True
                gone.append(copy)
        if emptied and not any(folder.iterdir()):  # a run folder whose copies have all gone; no other folder
            folder.rmdir()
    return gone


def apply(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    years_by_feed: dict[str, int],
    *,
    today: dt.date | None = None,
    dry_run: bool = False,
    outbox_days: int = DEFAULT_OUTBOX_DAYS,
) -> list[Applied]:
    """Apply each feed's retention (``years_by_feed``), then the outbox's (``outbox_days``, default the
    configuration's ``alerts.outbox_retention_days``)."""
    today = today or dt.date.today()
    prune_outbox(con, data_dir / "outbox", outbox_days, dry_run=dry_run)
    done = []
    for feed, contract in all_contracts().items():
        years = years_by_feed[feed]
        cutoff = cutoff_for(today, years)
        date_col = f'"{contract.period_column}"' if contract.period_column else "_as_of"
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'history' and table_name = ?", [feed]
        ).fetchone()[0]
        old_rows = 0
        if exists:
            old_rows = con.execute(f"select count(*) from history.{feed} where {date_col} < ?", [cutoff]).fetchone()[0]
        old_files = con.execute(
            """select extract_id, stored_path from landing.extracts
               where feed = ? and coalesce(declared_period_end, received_at::date) < ? and deleted_at is null""",
            [feed, cutoff],
        ).fetchall()
        ids = [e for e, _ in old_files]
        problems = 0
        if ids:
            problems = con.execute(
                "select count(*) from quarantine.row_problems where extract_id in (select unnest(?))", [ids]
            ).fetchone()[0]
        if not dry_run:
            con.execute("begin")
            if exists:
                con.execute(f"delete from history.{feed} where {date_col} < ?", [cutoff])
            if old_rows:  # a row remembered as its key's current version may be among them: loaded again if sent
                unchanged_rows.forget(con, feed)
            if ids:
                con.execute("delete from quarantine.row_problems where extract_id in (select unnest(?))", [ids])
                unchanged_rows.forget(con, feed, extracts=ids)  # what is remembered of a deleted extract goes too
                con.execute(
                    "update landing.extracts set deleted_at = ? where extract_id in (select unnest(?))",
                    [dt.datetime.now(dt.UTC), ids],
                )
            con.execute(
                "insert into audit.retention values (?, ?, ?, ?, ?, ?, ?)",
                [dt.datetime.now(dt.UTC), feed, years, cutoff, old_rows, len(ids), problems],
            )
            con.execute("commit")
            for _, stored in old_files:
                (data_dir / stored).unlink(missing_ok=True)
        done.append(Applied(feed, years, cutoff, old_rows, len(ids), problems))
    return done
