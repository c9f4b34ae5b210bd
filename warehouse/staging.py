"""Staging: read a landed extract into DuckDB exactly as sent, and check it can be read at all.

Three outcomes, in order:

1. the file cannot be read as this feed (wrong encoding, no header, columns missing, renamed or extra): an
   extract-level *fatal* problem, and the extract is held back whole;
2. individual lines are malformed (too many or too few fields, broken quoting): each becomes a row problem
   (``line.malformed``) and is quarantined, and the rest of the file goes on;
3. every other line is in ``scratch.checked_<load>``, with ``_line`` (its line in the partner's file, the header
   being line 1), each column raw (``<col>__raw``, as sent) and typed (``<col>``, NULL when it does not parse). It is
   a view of the staged table (below), which is read from the file in one pass and holds each value once (a text
   column's typed value is its raw value).

``scratch`` is an in-memory database attached to the loader's connection (:func:`warehouse.db.connect_loader`):
the staged extract, raw identifiers and all, never reaches the loader's file. DuckDB does not compress an in-memory
table as it fills it, so an extract is held there several times its file's size. Where it is held depends on
whether it fits:

- An extract whose file is larger than half of DuckDB's cap will not fit (the staged table is two to three times
  its file). It is held in a database file of its own, ``held_<load>.duckdb`` (0600), in the loader's spill folder
  (0700, emptied whenever the loader opens), encrypted under a key drawn for it alone and never written down, and
  deleted after the load: DuckDB writes it compressed as it reads the file. It holds the raw values only, and the
  view types them as they are read: each typed column would be one more column to write. (Held in memory, such an
  extract spilled and was then compressed by a checkpoint, which took longer than reading the file: national
  interventions staged in 21.3 s that way, 10.0 s in its own file; measured: bench/NOTES.md change 49.)
- An extract that fits is held in ``scratch``, typed once as the file is read, and writes nothing to disk. If it
  spills after all, staging checkpoints ``scratch``, which compresses it into memory, so that every later read of
  it (each rule, GX, the load) reads memory, not the spill. Staging does not checkpoint an extract that did not
  spill: that costs more than it saves (measured: bench/NOTES.md). Typing on every read costs more than typing
  once for an extract that fits, so it is not done there.

The view is the same either way (tests/warehouse/test_loading.py).
"""

from __future__ import annotations

import codecs
import csv
import io
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from expectations.contract import Contract, typed_expr
from expectations.extract_rules import ExtractProblem
from expectations.messages import readable
from expectations.sql import sql_literal
from partnership import progress
from warehouse.db import memory_cap

TEXT = ("text", "code")  # types whose typed value is the raw value
NAME_LIKE_HEADERS = ("name", "forename", "surname", "address", "street", "notes", "comment", "narrative")


@dataclass
class Staged:
    table: str | None  # the view of every accepted row (``scratch.main.checked_<load>``)
    held: str | None = None  # the table the view reads
    rows_staged: int = 0
    malformed_lines: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (line, DuckDB error type)
    problems: list[ExtractProblem] = field(default_factory=list)

    @property
    def held_back(self) -> bool:
        return any(p.severity == "fatal" for p in self.problems)


def _check_encoding(path: Path) -> ExtractProblem | None:
    with open(path, "rb") as f:
        start = f.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ExtractProblem(
            "file.encoding",
            "The file is UTF-16 (Excel's 'Unicode Text'), not UTF-8.",
            "Save or export the extract as UTF-8 (in Excel: 'CSV UTF-8'); other encodings are refused.",
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                where = offset + e.start
                line = _line_at(path, where)
                return ExtractProblem(
                    "file.encoding",
                    f"The file is not UTF-8: the byte at offset {where} (line {line}) is not valid UTF-8.",
                    "Save or export the extract as UTF-8 (in Excel: 'CSV UTF-8'); other encodings are refused.",
                )
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return ExtractProblem(
            "file.encoding",
            "The file ends part-way through a character: it is not valid UTF-8 or it was cut off.",
            "Send the whole file again, saved as UTF-8.",
        )
    return None


def _line_at(path: Path, offset: int) -> int:
    with open(path, "rb") as f:
        return f.read(offset).count(b"\n") + 1


def read_header(path: Path) -> list[str] | None:
    with open(path, "rb") as f:
        first = f.readline(1 << 16)
    text = first.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    if not text.strip():
        return None
    # newline="": a stray carriage return ends the header row (its columns then show as missing) rather than
    # making the csv module raise
    return next(csv.reader(io.StringIO(text, newline="")), None)


def check_header(contract: Contract, header: list[str] | None) -> list[ExtractProblem]:
    """Extract-level rules on the header: it must name exactly the contract's columns (in any order). What the
    partner's header said is echoed at a readable length (a 64 KB column name is cut, saying how long it was)."""
    return [replace(p, message=readable(p.message)) for p in _header_problems(contract, header)]


def _header_problems(contract: Contract, header: list[str] | None) -> list[ExtractProblem]:
    expected = contract.column_names
    if header is None:
        return [
            ExtractProblem(
                "header.missing",
                "The file is empty or its first line is blank: there is no header row.",
                f"Send a header row naming the columns: {', '.join(expected)}. A nil return is the header alone.",
            )
        ]
    problems = []
    clean = [h.strip() for h in header]
    dupes = sorted({h for h in clean if clean.count(h) > 1})
    if dupes:
        problems.append(
            ExtractProblem(
                "header.duplicate_columns",
                f"The header names these columns more than once: {', '.join(dupes)}.",
                "Name each column once.",
            )
        )
    missing = [c for c in expected if c not in clean]
    extra = [h for h in clean if h not in expected]
    if missing:
        problems.append(
            ExtractProblem(
                "header.missing_columns",
                f"Columns missing from the header: {', '.join(missing)}"
                + (f" (the header has unexpected columns {', '.join(extra)}: renamed?)" if extra else "."),
                f"Send every column of the {contract.feed} contract, named exactly: {', '.join(expected)}.",
            )
        )
    elif extra:
        personal = [h for h in extra if any(w in h.lower() for w in NAME_LIKE_HEADERS)]
        problems.append(
            ExtractProblem(
                "header.extra_columns" if not personal else "header.personal_data_columns",
                (
                    f"The header has columns that look like names, addresses or free text: {', '.join(personal)}."
                    if personal
                    else f"The header has columns the contract does not define: {', '.join(extra)}."
                ),
                (
                    "Remove them: the partnership accepts no names, addresses or free text."
                    if personal
                    else "Remove the extra columns, or ask the YOS data lead to add them to the contract first."
                ),
            )
        )
    return problems


def stage(con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, load_id: int) -> Staged:
    """Read a landed file into ``scratch.checked_<load_id>``; see the module docstring for what comes out (shown as
    the step "staging" to a person watching: :mod:`partnership.progress`)."""
    with progress.step(f"staging {contract.partner}/{contract.feed}", unit="rows") as shown:
        staged = _stage(con, contract, path, load_id)
        shown.advance(staged.rows_staged)
    return staged


def _stage(con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, load_id: int) -> Staged:
    # Can it be read at all?
    problem = _check_encoding(path)
    if problem:
        return Staged(table=None, problems=[problem])
    header = read_header(path)
    problems = check_header(contract, header)
    if problems:
        return Staged(table=None, problems=problems)
    header = [h.strip() for h in header]

    # One pass over the file: every line read as text, exactly as sent (blank as NULL), and the typed value of each
    # non-text column beside it, unless the extract is too large to fit (then the view types it on read; see the
    # module docstring); a text column's typed value is its raw value, so the view ``checked_<load>`` names it
    # twice and it is held once. Malformed lines go to the rejects table with their line number. The table lives in
    # scratch, where GX's cursors see it too.
    columns = "{" + ", ".join(f"'{h}': 'VARCHAR'" for h in header) + "}"
    select = [f'nullif("{col.name}", \'\') as "{col.name}__raw"' for col in contract.columns.values()]
    typed = [
        f'{typed_expr(c, contract.date_format)} as "{c.name}"' for c in contract.columns.values() if c.type not in TEXT
    ]
    same = [f'"{c.name}__raw" as "{c.name}"' for c in contract.columns.values() if c.type in TEXT]
    large = types_on_read(con, path)
    stored, on_read = ([], typed) if large else (typed, [])
    checked = f"scratch.main.checked_{load_id}"
    drop(con, load_id)
    staged = _held_on_disk(con, load_id) if large else f"scratch.main.staged_{load_id}"
    spilled_before = None if large else _spilled(con)
    try:
        con.execute(
            f"""create table {staged} as select {", ".join(["*", *stored])} from (
                select {", ".join(select)} from read_csv(?, header = true, columns = {columns},
                auto_detect = false, delim = ',', quote = '"', escape = '"', strict_mode = true,
                store_rejects = true, rejects_table = 'rejects_{load_id}', rejects_scan = 'rejects_scan_{load_id}',
                rejects_limit = 0))""",
            [str(path)],
        )
    except duckdb.OutOfMemoryException:  # the server's fault, not the partner's file
        drop(con, load_id)
        raise
    except duckdb.Error as e:  # the reader gave up on the file as a whole (mixed line endings, say)
        drop(con, load_id)
        reason = str(e).splitlines()[0].split(": ", 1)[-1]
        return Staged(
            table=None,
            problems=[
                ExtractProblem(
                    "file.unreadable",
                    f"The file cannot be read as CSV ({reason}).",
                    "Export it again as CSV: one header row, commas between values, double quotes around any value "
                    "holding a comma or quote, and the same line ending on every line.",
                )
            ],
        )
    if spilled_before is not None and _spilled(con) > spilled_before:
        con.execute("checkpoint scratch")  # rowids, and so lines, are kept: nothing is ever deleted from it
    rejected = con.execute(
        f"select line, min(error_type), min(csv_line) from rejects_{load_id} group by line order by line"
    ).fetchall()
    accepted = con.execute(f"select count(*) from {staged}").fetchone()[0]

    # Each accepted row's line: its position in the staged table (file order) among the lines from 2 on, less the
    # rejected ones. With no line rejected (the usual case) the position gives the line directly.
    if rejected:
        con.execute(
            f"""create table scratch.main.line_map_{load_id} as
                select row_number() over (order by line) - 1 as rid, line
                from (select unnest(generate_series(2, {accepted + len(rejected) + 1})) as line
                      except select distinct line from rejects_{load_id})"""
        )
        con.execute(
            f"""create view {checked} as select m.line as _line, {", ".join(["s.*", *on_read, *same])}
                from {staged} s join scratch.main.line_map_{load_id} m on m.rid = s.rowid"""
        )
    else:
        con.execute(
            f"create view {checked} as select rowid + 2 as _line, {', '.join(['*', *on_read, *same])} from {staged}"
        )
    for temp in (f"rejects_{load_id}", f"rejects_scan_{load_id}"):  # held memory for the connection's life
        con.execute(f"drop table if exists {temp}")
    return Staged(
        table=checked,
        held=staged,
        rows_staged=accepted,
        malformed_lines=len(rejected),
        rejects=[(line, kind) for line, kind, _ in rejected],
    )


def types_on_read(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Whether the extract at ``path`` is typed as it is read rather than held typed: its file is larger than half
    of DuckDB's memory cap, so its staged table will not fit in memory (see the module docstring)."""
    return path.stat().st_size > memory_cap(con) / 2


def _held_on_disk(con: duckdb.DuckDBPyConnection, load_id: int) -> str:
    """A table for the staged extract ``load_id`` in a database file of its own in the loader's spill folder (0700,
    emptied whenever the loader opens), encrypted under a key drawn for it alone and never written down: attached
    as ``held_<load_id>``, detached and deleted by :func:`drop`."""
    path = _held_path(con, load_id)
    key = sql_literal(secrets.token_hex(32))
    con.execute(f"attach {sql_literal(str(path))} as held_{load_id} (encryption_key {key})")
    return f"held_{load_id}.main.staged"


def _held_path(con: duckdb.DuckDBPyConnection, load_id: int) -> Path:
    return Path(con.execute("select current_setting('temp_directory')").fetchone()[0]) / f"held_{load_id}.duckdb"


def _spilled(con: duckdb.DuckDBPyConnection) -> int:
    """Bytes of in-memory tables DuckDB has spilled to its temp directory."""
    return con.execute(
        "select coalesce(sum(temporary_storage_bytes), 0) from duckdb_memory() where tag = 'IN_MEMORY_TABLE'"
    ).fetchone()[0]


def drop(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Drop what staging made for ``load_id``: it holds the extract, raw identifiers and all, in memory."""
    con.execute(f"drop view if exists scratch.main.checked_{load_id}")
    for t in (f"scratch.main.staged_{load_id}", f"scratch.main.line_map_{load_id}"):
        con.execute(f"drop table if exists {t}")
    con.execute(f"detach database if exists held_{load_id}")
    path = _held_path(con, load_id)
    for left in (path, path.with_name(path.name + ".wal")):
        left.unlink(missing_ok=True)
