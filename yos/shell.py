"""``yos sql`` with no query: the analyst's SQL shell over the published warehouse.

It is a small REPL over the analysts' own connection (:func:`warehouse.db.connect_analyst`: read-only, no file or
network access, settings locked), not the duckdb command-line shell, whose dot commands run programs (``.shell``),
write files (``.output``) and open other databases (``.open``, after which external access is back on). Here SQL
is the only way in: a statement ends with ``;`` and may span lines; a mistake prints DuckDB's message on one line
and the shell goes on. The few dot commands it knows only read the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import duckdb

HELP = """Statements end with ';' and may span lines. The warehouse is read-only; files and the network are off.
  .tables          the schemas and views an analyst reads (catalog.views describes each)
  .describe NAME   the columns of a table or view, with their comments
  .help            this text
  .quit            leave (or Ctrl-D)"""

# Schemas that hold the warehouse's own machinery, not figures to read.
INTERNAL_SCHEMAS = ("_live", "_stored", "information_schema", "pg_catalog")


def one_line(error: duckdb.Error) -> str:
    """DuckDB's message on one line, without its hints at the source position."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def tables(con: duckdb.DuckDBPyConnection) -> str:
    """Every table and view an analyst reads, as ``schema.name``, one a line."""
    internal = ", ".join(f"'{s}'" for s in INTERNAL_SCHEMAS)
    rows = con.execute(
        f"""select schema_name || '.' || name from (
                select schema_name, table_name as name, database_name from duckdb_tables() where not internal
                union all
                select schema_name, view_name, database_name from duckdb_views() where not internal)
            where database_name = current_database() and schema_name not in ({internal})
            order by 1"""
    ).fetchall()
    return "\n".join(r[0] for r in rows)


def run(
    con: duckdb.DuckDBPyConnection,
    lines: Iterable[str],
    write: Callable[[str], None],
    prompt: Callable[[str], None] | None = None,
) -> int:
    """Read statements from ``lines`` and write their results; returns how many statements failed."""
    failed = 0
    buffer: list[str] = []
    if prompt:
        prompt("yos> ")
    for line in lines:
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            command, _, argument = stripped.partition(" ")
            if command in (".quit", ".exit"):
                break
            if command == ".help":
                write(HELP)
            elif command == ".tables":
                write(tables(con))
            elif command == ".describe" and argument.strip():
                try:
                    write(str(con.sql(f"describe {argument.strip().rstrip(';')}")))
                except duckdb.Error as e:
                    failed += 1
                    write(f"Error: {one_line(e)}")
            else:
                failed += 1
                write(
                    f"Error: {command} is not available here (the shell reads the warehouse only); .help lists what is"
                )
        elif stripped:
            buffer.append(line)
            if stripped.endswith(";"):
                failed += execute(con, "\n".join(buffer), write)
                buffer = []
        if prompt:
            prompt("...> " if buffer else "yos> ")
    if buffer:
        failed += execute(con, "\n".join(buffer), write)
    return failed


def execute(con: duckdb.DuckDBPyConnection, sql: str, write: Callable[[str], None]) -> int:
    """Run ``sql`` and write its result (or DuckDB's message on one line); returns 1 if it failed, else 0."""
    try:
        relation = con.sql(sql)
    except duckdb.Error as e:
        write(f"Error: {one_line(e)}")
        return 1
    if relation is not None:
        write(str(relation))
    return 0
