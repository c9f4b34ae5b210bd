"""Connections to the warehouse. The loader's file is opened by the loader only; analysts get the published file,
read-only, with external access off. Storage sits behind this module so another engine is a change here."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from expectations.sql import sql_literal
from warehouse import history_parts

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


def lock_holder(error: duckdb.IOException) -> str:
    """The process holding the file's lock, as DuckDB's lock error names it."""
    return str(error).split("Conflicting lock is held in", 1)[-1].split(". See", 1)[0].strip()


def connect_loader(path: Path, *, encrypt_spill: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the loader's private warehouse and bring its schema up to date.

    DuckDB's memory is capped (:func:`loader_memory_limit`; it spills to disk beyond that) so a national-scale load
    fits beside everything else on a modest server. ``encrypt_spill=False`` is for a process that has never read an
    extract or the pseudonym key, and only reads what the loader's file already holds (the publisher's own process,
    :func:`warehouse.publish.publish_apart`): what it spills is what the file holds, pseudonymised, under the same
    modes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    spill = spill_directory(path)
    os.umask(os.umask(0o077) | 0o077)  # whatever started us: what DuckDB writes (spill included) is 0600, folders 0700
    spill.mkdir(mode=0o700, exist_ok=True)
    spill.chmod(0o700)  # one made before this rule
    config = {"memory_limit": loader_memory_limit(), "temp_directory": str(spill)}
    # DuckDB has one writer. Each step of a run opens the file for itself, and the intake watcher opens it for a
    # moment every few seconds, so a short hold by another process is waited out; a long one (a load) is not.
    deadline = time.monotonic() + float(os.environ.get("YOS_LOCK_WAIT_SECONDS", "20"))
    while True:
        try:
            con = duckdb.connect(str(path), config=config)
            break
        except duckdb.IOException as e:
            if "lock" not in str(e):
                raise
            if time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise WarehouseBusy(
                f"the loader warehouse {path.name} is in use by another process ({lock_holder(e)}): a load is running; "
                "wait for it to finish and try again"
            ) from e
    # DuckDB's lock on the file is ours: no other loader can be using the spill folder, so what is in it was left by
    # a run that was killed (DuckDB deletes its spill as it goes, and at a normal close).
    remove_stale_spill(spill)
    # Spill is encrypted, under a key DuckDB draws for this process alone and never writes down: staged extracts
    # (raw identifiers included) spill when a load does not fit in memory. DuckDB encrypts with its built-in mbedtls
    # (writing with OpenSSL needs the httpfs extension, which would have to be downloaded); it calls that "unsafe"
    # for database files whose key is meant to last, a weaker claim than spill needs, where the alternative is none.
    # Not in the publisher's own process: it spills a lot (the stored models), encrypted three times slower, and
    # what it spills is the file's own pseudonymised rows. Never in a process that has loaded: after a load DuckDB
    # spilled the HMAC's inputs in the clear from memory it had not cleared (bench/NOTES.md, change 51).
    if encrypt_spill:
        con.execute("set force_mbedtls_unsafe = true")
        con.execute("set temp_file_encryption = true")
    # The time zone is fixed: a timestamp's date and its text (in a row's hash) follow the session's zone, and a
    # server moved to another zone would otherwise store the same row sent again as a new version.
    con.execute("set TimeZone = 'UTC'")
    # Publishing binds the history views over their Parquet parts many times (each model, and kpi.measures through
    # every kpi view): each bind read every part's footer again, and at national size creating kpi.measures alone
    # took 1.2 s and left 580 MB more resident, publishing's peak 1,872 MB; cached, 0.5 s and 1,103 MB
    # (bench/NOTES.md). Parts are never rewritten in place (warehouse.history_parts).
    con.execute("set parquet_metadata_cache = true")
    migrate(con)
    # Per-load working tables (staging): in memory, never in the file; a cursor of this connection sees them too.
    # Compressed at a checkpoint, which staging asks for when an extract did not fit in memory (see staging).
    con.execute("attach if not exists ':memory:' as scratch (compress)")
    return con


def spill_directory(loader_db: Path) -> Path:
    """Where DuckDB spills the loader's work when it does not fit in memory: ``<data>/warehouse/spill/``, 0700."""
    return loader_db.parent / "spill"


def remove_stale_spill(spill: Path) -> list[Path]:
    """Remove what a killed run left in the spill folder (call only while holding the loader's lock). Returns what
    went."""
    removed = []
    for left in spill.iterdir():
        if left.is_dir() and not left.is_symlink():
            shutil.rmtree(left, ignore_errors=True)
        else:
            left.unlink(missing_ok=True)
        removed.append(left)
    return removed


def connect_analyst(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse as an analyst: read-only, no file or network access, settings locked."""
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}: run `yos run nightly` or `yos load` first")
    con = duckdb.connect(str(path), read_only=True)
    # The history parts its views read (warehouse.history_parts: beside the file, or where the file was published
    # if the data directory was since copied or moved, until the next publish names its own) and nothing else.
    here = con.execute("select current_database()").fetchone()[0]
    folders = {history_parts.directory(path)} | {p.parent.parent for p in history_parts.named_by(con, here)}
    con.execute(f"set allowed_directories = [{', '.join(sql_literal(str(f) + os.sep) for f in sorted(folders))}]")
    # each query binds the history views' parts again (a kpi view's as-at branch names them many times): read each
    # part's footer once per connection (kpi.measures planned in 0.63 s rather than 0.82 s; bench/NOTES.md)
    con.execute("set parquet_metadata_cache = true")
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con
