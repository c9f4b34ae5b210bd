"""What the SSDA903 rules across feeds and years read while one children-in-care extract is validated: the other
feed's current rows, or last year's return, as the warehouse holds them (``history.<feed>``, CHILD as a pseudonym),
copied for the extract's children into small context tables beside the staged extract. The rules themselves are
in :mod:`expectations.ssda903_cross`."""

from __future__ import annotations

import duckdb

from expectations.ssda903_cross import CONTEXT_COLUMNS, CONTEXT_FEED, CONTEXT_WHAT, UNKNOWN_UPN, Context


def _history_has_rows(con: duckdb.DuckDBPyConnection, feed: str) -> bool:
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() and schema_name = 'history' "
        "and table_name = ?",
        [feed],
    ).fetchone()[0]
    if not exists:
        return False
    return bool(con.execute(f"select count(*) from (select 1 from history.{feed} limit 1)").fetchone()[0])


def _previous_load(con: duckdb.DuckDBPyConnection, feed: str, year: int, partner: str) -> int | None:
    return con.execute(
        "select max(load_id) from audit.loads where feed = ? and status = 'loaded' and collection_year = ? "
        "and partner = ?",
        [feed, year - 1, partner],
    ).fetchone()[0]


def prepare(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    checked: str,
    *,
    load_id: int,
    collection_year: int | None,
    partner: str,
    needs: set[str],
) -> Context:
    """Build the context tables ``needs`` asks for, beside ``checked`` (``db.schema.name``); the ``pseudonym``
    macro must be installed on ``con``. Runs outside any transaction, so GX's cursors see what it made."""
    ctx = Context()
    prefix = checked.rsplit(".", 1)[0]
    ids = f"{prefix}.x903_ids_{load_id}"
    upn = "pseudonym('upn', any_value(\"UPN\"))" if feed == "cic_header" else "NULL::VARCHAR"
    con.execute(
        f"""create or replace table {ids} as select "CHILD" as o_child, pseudonym('la_child', "CHILD") as o_pid,
            {upn} as o_upn_now from {checked} where "CHILD" is not null group by "CHILD" """
    )
    ctx.scratch.append(ids)
    for need in sorted(needs):
        other = CONTEXT_FEED[need]
        if not _history_has_rows(con, other):
            ctx.missing[need] = f"{CONTEXT_WHAT[need]} is not there yet"
            continue
        if need.endswith("_last"):
            if collection_year is None:
                ctx.missing[need] = "the extract's collection year is not known"
                continue
            last = _previous_load(con, other, collection_year, partner)
            if last is None:
                y = collection_year - 1
                ctx.missing[need] = f"no {y}/{(y + 1) % 100:02d} return of {other} is held in the warehouse"
                continue
            when = f"h._loaded_by <= {last} and (h._replaced_by is null or h._replaced_by > {last})"
        else:
            when = "h._replaced_by is null"
        cols = ", ".join(f'h."{c}" as "o_{c}"' for c in CONTEXT_COLUMNS[other])
        extra = ""
        if other == "cic_header":
            unknown = ", ".join(f"pseudonym('upn', '{u}')" for u in UNKNOWN_UPN)
            extra = f', i.o_upn_now, h."UPN" in ({unknown}) as o_upn_unknown'
        table = f"{prefix}.x903_{need}_{load_id}"
        con.execute(
            f"""create or replace table {table} as select i.o_child{extra}, {cols}
                from {ids} i join history.{other} h on h."CHILD" = i.o_pid where {when}"""
        )
        ctx.tables[need] = table
        ctx.scratch.append(table)
    return ctx
