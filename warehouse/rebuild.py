"""Rebuilding the loader's warehouse from the landing zone (after a key rotation, say): the old file is set aside, a
new one is made with the manifest and the audit trail carried over, every landed extract is loaded again, and the
old file is deleted once the new state is published (it holds pseudonyms under the old key)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from expectations.sql import sql_literal
from warehouse.db import connect_loader

# What survives a rebuild: what was received and what was done about it. Everything else is made again by loading.
CARRIED_OVER = ("landing.extracts", "audit.fetches", "audit.alerts", "audit.retention", "audit.rebuilds",
                "audit.fetch_failure_episodes")  # fmt: skip


def _files(path: Path) -> list[Path]:
    return [Path(str(path) + suffix) for suffix in ("", ".wal")]


def backup_of(loader: Path) -> Path:
    return loader.with_name(loader.stem + ".before-rebuild.duckdb")


def start_over(loader: Path) -> duckdb.DuckDBPyConnection:
    """Set the loader's file aside and open a new one holding only what is carried over. The caller has closed
    every connection to the old file."""
    backup = backup_of(loader)
    for old, aside in zip(_files(loader), _files(backup), strict=True):
        if old.exists():
            os.replace(old, aside)
    con = connect_loader(loader)
    con.execute(f"attach {sql_literal(str(backup))} as previous (read_only)")
    for table in CARRIED_OVER:
        con.execute(f"insert into {table} select * from previous.{table}")
    con.execute("detach previous")
    return con


def finish(
    con: duckdb.DuckDBPyConnection, loader: Path, started: dt.datetime, reason: str, key_version: int, reloaded: int
) -> None:
    """Record the rebuild and delete the old file."""
    con.execute(
        "insert into audit.rebuilds values (?, ?, ?, ?, ?)",
        [started, dt.datetime.now(dt.UTC), reason, key_version, reloaded],
    )
    for old in _files(backup_of(loader)):
        old.unlink(missing_ok=True)


def key_version_in_use(con: duckdb.DuckDBPyConnection) -> int | None:
    """The highest pseudonym key version any load used."""
    return con.execute("select max(pseudonym_key_version) from audit.loads").fetchone()[0]
