"""Connections to the warehouse. The loader's file is opened by the loader only; analysts get the published file,
read-only, with external access off. Storage sits behind this module so another engine is a change here."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from expectations.sql import sql_literal

MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration not yet applied, in order, and record it. Returns the schema version."""
    con.execute("create schema if not exists audit")
    con.execute(
        "create table if not exists audit.schema_version (version integer primary key, name varchar, "
        "applied_at timestamptz)"
    )
    applied = {r[0] for r in con.execute("select version from audit.schema_version").fetchall()}
    for path in sorted(MIGRATIONS.glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        if version in applied:
            continue
        con.execute("begin")
        con.execute(path.read_text())
        con.execute(
            "insert into audit.schema_version values (?, ?, ?)",
            [version, path.stem, dt.datetime.now(dt.UTC)],
        )
        con.execute("commit")
    return con.execute("select max(version) from audit.schema_version").fetchone()[0]


@contextmanager
def any_row_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let DuckDB store the rows of a statement without an ORDER BY in any order, inside the block.

    A result with an ORDER BY keeps it (a kpi view stored in the published file stays sorted). Staging must never
    run inside: a staged row's line in the partner's file is its position in the table. Publishing at national size
    is faster with it (measured: bench/NOTES.md)."""
    con.execute("set preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute("reset preserve_insertion_order")


def loader_memory_limit() -> str:
    """DuckDB's memory cap for the loader: ``YOS_DUCKDB_MEMORY_LIMIT``, default 896MB (it spills to disk beyond)."""
    return os.environ.get("YOS_DUCKDB_MEMORY_LIMIT", "896MB")


def memory_cap(con: duckdb.DuckDBPyConnection) -> float:
    """DuckDB's memory cap on ``con`` now, in bytes."""
    number, unit = con.execute("select current_setting('memory_limit')").fetchone()[0].split()
    return float(number) * 1024 ** ("bytes", "KiB", "MiB", "GiB", "TiB").index(unit)


@contextmanager
def memory_share(con: duckdb.DuckDBPyConnection, share: float) -> Iterator[None]:
    """Run the block on the loader's connection ``con`` with DuckDB's memory cap at ``share`` of the loader's, and
    set it back to :func:`loader_memory_limit` however the block ends (not to the value read here: DuckDB shows the
    cap rounded down to 0.1 MiB, so restoring that would shrink it a little on every publish)."""
    con.execute(f"set memory_limit = '{int(memory_cap(con) * share)} bytes'")
    try:
        yield
    finally:
        con.execute(f"set memory_limit = {sql_literal(loader_memory_limit())}")


class WarehouseBusy(RuntimeError):
    """Another process is loading: DuckDB allows one writer."""


def connect_loader(path: Path) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the loader's private warehouse and bring its schema up to date.

    DuckDB's memory is capped (:func:`loader_memory_limit`; it spills to disk beyond that) so a national-scale load
    fits beside everything else on a modest server."""
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": loader_memory_limit(), "temp_directory": str(path.parent / "spill")}
    try:
        con = duckdb.connect(str(path), config=config)
    except duckdb.IOException as e:
        if "lock" not in str(e):
            raise
        holder = str(e).split("Conflicting lock is held in", 1)[-1].split(". See", 1)[0].strip()
        raise WarehouseBusy(
            f"the loader warehouse {path.name} is in use by another process ({holder}): a load is running; "
            "wait for it to finish and try again"
        ) from e
    migrate(con)
    # Per-load working tables (staging): in memory, never in the file; a cursor of this connection sees them too.
    # Compressed at a checkpoint, which staging asks for when an extract did not fit in memory (see staging).
    con.execute("attach if not exists ':memory:' as scratch (compress)")
    return con


def connect_analyst(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse as an analyst: read-only, no file or network access, settings locked."""
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}: run `yos run nightly` or `yos load` first")
    return duckdb.connect(
        str(path),
        read_only=True,
        config={"enable_external_access": False, "lock_configuration": True},
    )
