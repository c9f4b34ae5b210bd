"""The published history, written once: each load's versions of a feed are one immutable Parquet file (a part),
written by the first publish after the load and read by every later one.

Publishing used to copy all of history into the new analysts' file every night, so a night's cost followed the size
of history, not what changed (bench/NOTES.md). Now the analysts' file holds, per feed, a view ``history.<feed>`` over
the feed's parts and the small table of which versions were replaced by which load (``_history.<feed>``, the one
thing about an old version that changes), and lists the parts it reads (``_history.parts``). A night writes the parts
of its own loads and those tables; the parts already written are only named again.

A part's name says what it holds: ``<load id>-<rows>-<fingerprint>-<columns>.parquet``, the fingerprints covering the
rows' hashes, and the stored columns with the loader's schema version. A load whose rows the loader later changed
(retention deleted some, a rekey or rebuild recomputed them, a migration changed the columns) no longer matches its
part's name, so its part is written again under the new name; the old part stays for readers of the previous file.
Parts that neither the live nor the previous analysts' file lists are deleted after the swap (:func:`remove_unused`).

The parts live in ``<data>/history/<feed>/`` beside the analysts' file, and the view names them by absolute path:
the data directory is where the warehouse lives, and :func:`warehouse.db.connect_analyst` lets an analyst's
connection read that folder and nothing else.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb

from expectations.sql import sql_literal

# History columns the loader keeps for itself (the key's and the row's hashes it matches and compares arriving rows
# by), and the one column that changes after a version is written (kept in ``_history.<feed>`` instead).
LOADER_ONLY = ("_key", "_row_hash")
CHANGES = "_replaced_by"
SCHEMA = "_history"


def directory(published: Path) -> Path:
    """Where the parts of the analysts' file ``published`` live."""
    return published.parent / "history"


def published_rows(table: str) -> str:
    """The rows of the loader's history ``table`` as the analysts' file holds them: without the columns the loader
    keeps for itself or the one that changes (:data:`LOADER_ONLY`, :data:`CHANGES`)."""
    return f"select * exclude ({', '.join((*LOADER_ONLY, CHANGES))}) from {table}"


def _columns_fingerprint(con: duckdb.DuckDBPyConnection, home: str, feed: str) -> str:
    """The stored columns and the loader's schema version: a migration may change rows' values, not only columns."""
    cols, version = con.execute(
        "select string_agg(column_name || ' ' || data_type, ', ' order by column_index), "
        f"(select max(version) from {home}.audit.schema_version) from duckdb_columns() "
        "where database_name = ? and schema_name = 'history' and table_name = ?",
        [home, feed],
    ).fetchone()
    return hashlib.sha256(f"{cols} @{version}".encode()).hexdigest()[:8]


def write_parts(con: duckdb.DuckDBPyConnection, home: str, feed: str, published: Path) -> list[Path]:
    """The parts of ``history.<feed>`` in the loader's database ``home``, oldest load first, writing any not yet
    written. A feed with no rows gets one empty part, so that its view has its columns."""
    folder = directory(published) / feed
    folder.mkdir(parents=True, exist_ok=True)
    columns = _columns_fingerprint(con, home, feed)
    table = f"{home}.history.{feed}"
    written = published_rows(table)
    loads = con.execute(
        f"select _loaded_by, count(*), bit_xor(hash(_row_hash)) from {table} group by 1 order by 1"
    ).fetchall()
    wanted = [(f"{load}-{rows}-{fingerprint:016x}-{columns}.parquet", f"where _loaded_by = {load} order by _line")
              for load, rows, fingerprint in loads] or [(f"empty-{columns}.parquet", "limit 0")]  # fmt: skip
    parts = []
    for name, rows in wanted:
        part = folder / name
        if not part.exists():
            tmp = part.with_suffix(".tmp")
            con.execute(f"copy ({written} {rows}) to {sql_literal(str(tmp))} (format parquet)")
            os.replace(tmp, part)  # a part is whole or absent, never half-written under its name
        parts.append(part)
    return parts


def publish_view(con: duckdb.DuckDBPyConnection, home: str, feed: str, parts: list[Path]) -> None:
    """In the current (analysts') database: ``_history.<feed>``, each replaced version's load and line with the load
    that replaced it, and the view ``history.<feed>`` over ``parts`` with ``_replaced_by`` joined back on."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"create table if not exists {SCHEMA}.parts (feed varchar, path varchar)")
    con.execute(f"insert into {SCHEMA}.parts select ?, unnest(?::varchar[])", [feed, [str(p) for p in parts]])
    con.execute(
        f"create table {SCHEMA}.{feed} as select _loaded_by, _line, {CHANGES} from {home}.history.{feed} "
        f"where {CHANGES} is not null"
    )
    files = ", ".join(sql_literal(str(p)) for p in parts)
    con.execute(
        f"""create view history.{feed} as
            select p.*, r.{CHANGES} from read_parquet([{files}]) p
            left join {SCHEMA}.{feed} r on r._loaded_by = p._loaded_by and r._line = p._line"""
    )


def named_by(con: duckdb.DuckDBPyConnection, database: str) -> set[Path]:
    """Every part the views of ``database`` (an analysts' file, attached or open) read, as its ``_history.parts``
    lists them; none for a file with no parts (the hub's, or one published before parts)."""
    listed = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = 'parts'",
        [database, SCHEMA],
    ).fetchone()[0]
    if not listed:
        return set()
    return {Path(p) for (p,) in con.execute(f'select path from "{database}".{SCHEMA}.parts').fetchall()}


def named_elsewhere(con: duckdb.DuckDBPyConnection, published: Path) -> bool:
    """Whether the analysts' file ``published``, open on ``con``, reads parts outside its own folder: the data
    directory was copied or moved since it was published, and the next publish should name its own parts."""
    here = con.execute("select current_database()").fetchone()[0]
    own = directory(published)
    return any(p.parent.parent != own for p in named_by(con, here))


def remove_unused(published: Path, keep: set[Path]) -> list[Path]:
    """Delete the parts (and any part left half-written) that no analysts' file in ``keep`` names."""
    removed = []
    root = directory(published)
    if not root.exists():
        return removed
    for path in root.glob("*/*"):
        if path.suffix in (".parquet", ".tmp") and path not in keep:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
