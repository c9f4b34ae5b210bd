"""Loading: rows that passed validation go into ``history.<feed>``, pseudonymised and minimised, as versions.

Every version of a row is kept with the load that brought it (``_loaded_by``) and the load that replaced it
(``_replaced_by``, NULL while current). Rows are matched by the contract's key (over pseudonyms, never raw
identifiers) and compared by a hash of their stored values, so:

- the same extract loaded twice changes nothing;
- a delta extract replaces corrected rows by key and adds new ones;
- a snapshot extract does the same and also withdraws current rows whose key it no longer contains;
- extracts arriving out of order end in the same state as in order. Each version carries ``_as_of``, the date its
  extract speaks for (the declared period end, else the day it was received); a version only replaces an older
  one, ``(_as_of, _loaded_by)`` deciding. A version that arrives after a newer one for its key (or, for a snapshot,
  after a newer snapshot) is kept in history as superseded on arrival, never current.

What is stored (minimisation): identifiers become pseudonyms; dates of birth become ``<col>_month`` (first of the
month) with the age at each other date in the row computed on load (``age_at_<date>``); postcodes become their
outward code (``<col>_outward``). No names, addresses or free text exist in any contract.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from expectations.contract import Column, Contract, ContractError
from expectations.sql import sql_literal
from partnership import progress

LINEAGE = [
    ("_as_of", "DATE"),
    ("_key", "VARCHAR"),
    ("_row_hash", "VARCHAR"),
    ("_extract_id", "VARCHAR"),
    ("_line", "BIGINT"),
    ("_loaded_by", "BIGINT"),
    ("_replaced_by", "BIGINT"),
]


def _age_name(col: Column) -> str:
    name = col.name.lower()
    for suffix in ("_datetime", "_date"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return f"age_at_{name}"


def stored_columns(contract: Contract) -> list[tuple[str, str, str]]:
    """(name, SQL type, expression over the checked relation) of each stored column, in order."""
    out: list[tuple[str, str, str]] = []
    dob = next((c for c in contract.columns.values() if c.name.lower() == "dob"), None)
    for col in contract.columns.values():
        q = f'"{col.name}"'
        if col.identifier:
            out.append((col.name, "VARCHAR", f"pseudonym('{col.identifier}', {q})"))
        elif col.minimise == "month":
            out.append((f"{col.name}_month", "DATE", f"date_trunc('month', {q})::DATE"))
        elif col.minimise == "outward_code":
            out.append(
                (
                    f"{col.name}_outward",
                    "VARCHAR",
                    f"regexp_extract(upper({q}), '^([A-Z]{{1,2}}[0-9][0-9A-Z]?)', 1)",
                )
            )
        else:
            out.append((col.name, col.sql_type(), q))
    if dob is not None:
        for col in contract.columns.values():
            if col.type in ("date", "timestamp") and col is not dob and col.minimise is None:
                # Whole years: the calendar years between, less one if the birthday had not come yet that year
                # (as month * 100 + day; formatting both dates as text cost four times as much at national size).
                d, b = f'"{col.name}"::DATE', f'"{dob.name}"'
                age = (
                    f"(date_diff('year', {b}, {d}) - "
                    f"((month({d}) * 100 + day({d})) < (month({b}) * 100 + day({b})))::int)::INTEGER"
                )
                out.append((_age_name(col), "INTEGER", age))
    return out


def ensure_table(con: duckdb.DuckDBPyConnection, contract: Contract) -> str:
    """Create ``history.<feed>`` from its contract, or check the existing table still matches it.

    A contract change that changes the stored columns needs a migration in ``warehouse/migrations/``: loading
    refuses to guess how old versions map onto new columns."""
    table = f"history.{contract.feed}"
    cols = [(n, t) for n, t, _ in stored_columns(contract)] + LINEAGE
    existing = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = current_database() "
        "and schema_name = 'history' and table_name = ? order by column_index",
        [contract.feed],
    ).fetchall()
    if existing:
        if [(n, t.upper()) for n, t in existing] != [(n, t.upper()) for n, t in cols]:
            raise ContractError(
                f"{table} no longer matches contract {contract.feed} v{contract.version}: add a migration in "
                "warehouse/migrations/ that brings the table to the contract's columns"
            )
        return table
    con.execute(f"create table {table} ({', '.join(f'{chr(34)}{n}{chr(34)} {t}' for n, t in cols)})")
    comment = f"{contract.title}: every version of every row. {contract.grain} (contract v{contract.version})"
    con.execute(f"comment on table {table} is {sql_literal(comment)}")
    return table


def hashed_text(columns: list[str], null_as: str) -> str:
    """The text a row's key or stored values are hashed as: each column as text (``null_as`` when NULL), joined
    with ``|``.

    ``concat_ws`` builds the same text as chaining ``a || '|' || b ...`` (so hashes stored by earlier loads still
    match), and faster at national size: the chain copies the growing text once per column (measured:
    bench/NOTES.md)."""
    return "concat_ws('|', " + ", ".join(f'coalesce("{c}"::VARCHAR, {sql_literal(null_as)})' for c in columns) + ")"


FEW = 10  # rows a snapshot may always withdraw (see load), unless it holds none
# A load that compares arriving rows with history leaves its caller the line, key and row hash of every row it
# loaded here (a temporary view of the loader's connection, replaced by the next load; :func:`drop_loaded`).
LOADED = "loaded_rows"


class SnapshotShrinks(Exception):
    """A snapshot would withdraw more of the feed's current rows than it may: raised inside the load's transaction,
    which its caller rolls back, so nothing is kept."""

    def __init__(self, withdrawn: int, current: int) -> None:
        super().__init__(f"the snapshot would withdraw {withdrawn} of {current} current rows")
        self.withdrawn, self.current = withdrawn, current


@dataclass(frozen=True)
class Loaded:
    rows_loaded: int
    versions_added: int
    versions_replaced: int
    rows: str = LOADED  # a relation of the line, key, row hash and staleness of every row loaded


def load(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    checked: str,
    *,
    load_id: int,
    extract_id: str,
    as_of: dt.date,
    max_withdrawn_share: float | None = None,
    known: str | None = None,
) -> Loaded:
    """Load the rows of ``checked`` not quarantined for ``load_id`` into history, as described above (shown as the
    step "loading" to a person watching: :mod:`partnership.progress`)."""
    with progress.step(f"loading {contract.partner}/{contract.feed}", unit="rows") as shown:
        loaded = _load(con, contract, checked, load_id=load_id, extract_id=extract_id, as_of=as_of,
                       max_withdrawn_share=max_withdrawn_share, known=known)  # fmt: skip
        shown.advance(loaded.rows_loaded)
    return loaded


def _load(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    checked: str,
    *,
    load_id: int,
    extract_id: str,
    as_of: dt.date,
    max_withdrawn_share: float | None = None,
    known: str | None = None,
) -> Loaded:
    """Load the rows of ``checked`` not quarantined for ``load_id`` into history, as described above.

    A snapshot that would withdraw more than ``max_withdrawn_share`` of the feed's current rows (a file cut short or
    holding only its header) raises SnapshotShrinks, and the caller rolls its transaction back: nothing is kept.
    ``known`` (``_line, _key, _row_hash``) gives the key and row hash of lines whose row was loaded before
    unchanged (:mod:`warehouse.unchanged_rows`): they are looked up, not computed, and each is its key's current
    version, so it is not joined to history. The rows loaded: ``Loaded.rows``. Runs inside the caller's
    transaction."""
    table = ensure_table(con, contract)
    stored = stored_columns(contract)
    names = [n for n, _, _ in stored]
    key_expr = f"md5({hashed_text([n for n in names if n in contract.key], '')})"
    hash_expr = f"md5({hashed_text(names, '~')})"
    ours = f"(date '{as_of.isoformat()}', {load_id})"
    older_than_ours = f"(h._as_of, h._loaded_by) < {ours}"

    def arriving(lines: str = "", but: str = "") -> str:
        """The rows to load (every row not quarantined, or only those whose ``_line`` is in ``lines``, or not in
        ``but``), stored as history stores them, with their key's and values' hashes. The filter comes before the
        row is computed."""
        only = (f" and _line in ({lines})" if lines else "") + (f" and _line not in ({but})" if but else "")
        return f"""select *, {key_expr} as _key, {hash_expr} as _row_hash from (
                    select _line, {", ".join(f'{e} as "{n}"' for n, _, e in stored)} from {checked}
                    where _line not in (select line from quarantine.row_problems
                                        where load_id = {load_id} and severity = 'error' and line is not null){only})"""

    columns = ", ".join(f'i."{n}"' for n in names)
    lineage = f"date '{as_of.isoformat()}', i._key, i._row_hash, '{extract_id}', i._line, {load_id}"
    if not con.execute(f"select count(*) from (select 1 from {table} limit 1)").fetchone()[0]:
        # The feed's first load (a new partnership, a rebuild, a rekey): no version exists that a row could be stale
        # against, equal to, or replace, so every row is a new version, inserted as it is computed (at national size,
        # holding the arriving rows first was a third of the feed's load time).
        insert = f"insert into {table} select {columns}, {lineage}, null from ({arriving()}) i"
        added = con.execute(insert).fetchone()[0]
        # read from history, not copied: a first load's rows are every row (a table of them held 5 million keys and
        # hashes in memory at national size, and the night's peak with them)
        rows = f"(select _line, _key, _row_hash, false as _stale from {table} where _loaded_by = {load_id})"
        return Loaded(rows_loaded=added, versions_added=added, versions_replaced=0, rows=rows)
    # Stale: a newer version of the key is already current, or (snapshot) a newer snapshot was already loaded.
    newer_snapshot = False
    if contract.kind == "snapshot":
        newer_snapshot = bool(
            con.execute(
                f"select count(*) from {table} h where not ({older_than_ours}) and h._loaded_by <> {load_id}"
            ).fetchone()[0]
        )
    # Each arriving row's line, key and hash, with what the current versions of its key say: is one of them newer
    # (the row is stale), is one of them the same (the row adds nothing). One join, computed once (a correlated
    # "exists" per row in each later statement cost more than the insert itself). Only the line and
    # the hashes are kept: the rows themselves are computed again below for the few that are inserted. Holding
    # every arriving row here, each current key's hashes gathered in a list, ran out of memory at national size
    # under the default cap (a second snapshot of interventions; measured: bench/NOTES.md).
    hashes = f"select _line, _key, _row_hash from ({arriving()})"
    # Looked up (every line of ``known`` not quarantined): the current version of its key, unchanged, and stale only
    # if a newer snapshot was loaded (warehouse.unchanged_rows.prepare says why), so not joined to history. Read
    # where it is (LOADED is a view of the rows compared and the rows looked up): copied beside the others, the
    # night's millions of looked-up keys and hashes were held twice (measured: bench/NOTES.md).
    looked_up = ""
    if known:
        looked_up = f"""union all select _line, _key, _row_hash, {str(newer_snapshot).lower()}, true from {known}
                        where _line not in (select line from quarantine.row_problems
                                            where load_id = {load_id} and severity = 'error' and line is not null)"""
        # the rest, computed: few, and held so that the join below knows it (estimated from the whole extract, it
        # built its hash table on history's current versions instead, 12-15 s for national interventions)
        con.execute(
            f"""create or replace temp table {LOADED}_computed as
                select _line, _key, _row_hash from ({arriving(but=f"select _line from {known}")})"""
        )
        hashes = f"select * from {LOADED}_computed"
    matched = "filter (where h._key is not null)"  # (NULL, NULL) < (a, b) is false, not NULL: rows compare NULLs
    con.execute(
        f"""create or replace temp table {LOADED}_compared as
            select a._line, a._key, a._row_hash,
                   {str(newer_snapshot).lower()} or coalesce(bool_or(not ({older_than_ours})) {matched}, false)
                       as _stale,
                   coalesce(bool_or(h._row_hash = a._row_hash) {matched}, false) as _unchanged
            from ({hashes}) a
            left join {table} h on h._key = a._key and h._replaced_by is null
            group by a._line, a._key, a._row_hash"""
    )
    con.execute(f"create or replace temp view {LOADED} as select * from {LOADED}_compared {looked_up}")
    rows_loaded, new_rows, stale_rows = con.execute(
        "select count(*), count(*) filter (where not _stale and not _unchanged), count(*) filter (where _stale) "
        f"from {LOADED}"
    ).fetchone()
    withdraws = contract.kind == "snapshot" and not newer_snapshot
    withdrawn = 0
    if withdraws:
        current = con.execute(
            f"select count(*) from {table} h where h._replaced_by is null and {older_than_ours}"
        ).fetchone()[0]
        withdrawn = con.execute(
            f"""update {table} h set _replaced_by = {load_id}
                where h._replaced_by is null and {older_than_ours} and h._key not in (select _key from {LOADED})"""
        ).fetchone()[0]
        # Counted by the withdrawal itself, and the caller's transaction rolled back when it is too many (counting
        # first read every current key against every row loaded a second time: 6.9 s of national assessments'
        # 16.4 s load; measured: bench/NOTES.md). A small feed's ordinary change is a large share of it (a reference
        # table losing a year): a few rows withdrawn hold nothing back, unless the snapshot sent no row at all (rows
        # sent and quarantined were sent: the file was not cut short, its rows were wrong, and the partner hears
        # about them).
        if max_withdrawn_share is not None and current and withdrawn > max_withdrawn_share * current:
            if withdrawn > FEW or not con.execute(f"select count(*) from {checked}").fetchone()[0]:
                raise SnapshotShrinks(withdrawn, current)
    changed = con.execute(
        f"""update {table} h set _replaced_by = {load_id} from (select * from {LOADED} where not _unchanged) i
            where h._key = i._key and h._replaced_by is null and not i._stale and h._row_hash <> i._row_hash"""
    ).fetchone()[0]
    # Each insert reads the whole staged extract to find its lines, so one with no lines is not run (on a normal
    # night no row is stale, and a read of a national-size snapshot is not free; measured: bench/NOTES.md).
    added = 0
    if new_rows:
        new_lines = f"select _line from {LOADED} where not _stale and not _unchanged"
        added = con.execute(
            f"insert into {table} select {columns}, {lineage}, null from ({arriving(new_lines)}) i"
        ).fetchone()[0]
    if stale_rows:  # kept for lineage, never current: what a late, older extract said
        stale_lines = f"select _line from {LOADED} where _stale"
        con.execute(f"insert into {table} select {columns}, {lineage}, {load_id} from ({arriving(stale_lines)}) i")
    return Loaded(rows_loaded=rows_loaded, versions_added=added, versions_replaced=changed + withdrawn)


def drop_loaded(con: duckdb.DuckDBPyConnection) -> None:
    """Drop :data:`LOADED` and what it reads: a line, key and hash for every row of the last load."""
    con.execute(f"drop view if exists {LOADED}")
    for table in ("compared", "computed"):
        con.execute(f"drop table if exists {LOADED}_{table}")
