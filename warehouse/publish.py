"""Publishing: build the analysts' file and swap it in atomically.

The published file ``<data>/yos.duckdb`` holds only pseudonymised data and views: the history tables, the
``core`` views of current rows (as at any load), the SQL models in ``transforms/`` (``conformed`` then ``kpi``),
audit figures without row values, and a ``catalog`` of every view and column. It is built as ``yos.next.duckdb``,
checkpointed, and renamed over the live file: an analyst who has the old file open keeps a consistent view, a new
connection sees the new data, and nobody ever sees a half-built file. The previous file is kept as
``yos.prev.duckdb`` for rollback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from expectations.contract import all_contracts
from expectations.sql import sql_literal
from warehouse import disclosure
from warehouse.db import any_row_order, memory_share
from warehouse.loading import ensure_table, stored_columns

TRANSFORMS = Path(__file__).resolve().parents[1] / "transforms"
LAYERS = ("conformed", "kpi", "audit")
# Models computed once per publish and stored, so that an analyst's query (and the board pack) reads a table, not
# a chain of joins over every row (bench/: each kpi view under a second at national scale). In dependency order;
# "kpi.*" is every kpi view, kpi.measures last. Set as_at_load and each reads its live definition instead.
# conformed.kpi_caseload is read by six kpi views (twice by kpi.health_needs, which at national size ran out of
# memory computing it twice at once under a cap of 896 MB). conformed.outcomes and conformed.disposals: read live,
# their core views' estimated sizes (a fifth of the rows) made kpi.disproportionality hash the wrong side of its
# joins and run out of memory at national size under caps of 1.2 and 2 GB; conformed.children reads them, stored.
MATERIALISED = ("conformed.child_identifiers", "conformed.outcomes", "conformed.disposals", "conformed.children",
                "conformed.proven_outcomes",
                "conformed.reoffending_members", "conformed.reoffending_cohorts", "conformed.kpi_caseload",
                "kpi.*")  # fmt: skip
# Publishing runs under this share of the loader's DuckDB cap. The cap bounds DuckDB's buffers, not all it
# allocates, and the stored models overshoot it more than loading does: at national size under 896 MB they took
# (c)'s peak RSS to 1,500-1,550 MiB. Publishing alone under 85% peaked 120 MiB lower and took 6% longer (bench/).
PUBLISH_MEMORY_SHARE = 0.85
MAX_LOAD = 9_223_372_036_854_775_807
# History columns the loader keeps for itself: the key's hash it matches arriving rows on, and the row's hash it
# detects changes by. Analysts follow a row's versions by its own key columns; copying the two hashes was 40% of
# the time spent copying history into the published file.
LOADER_ONLY = ("_key", "_row_hash")

# What of the loader's audit trail analysts get: counts, rules and dates, never a row's values.
AUDIT_COPIES = {
    "loads": ("select * from {home}.audit.loads", "Every load: rows received, loaded and quarantined, status."),
    "extracts": (
        "select extract_id, feed, partner, sha256, bytes, source, received_at, declared_period_start, "
        "declared_period_end, declared_kind from {home}.landing.extracts",
        "Every extract received: partner, feed, hash, period.",
    ),
    "data_quality": (
        "select load_id, extract_id, feed, partner, rule_id, severity, count(*) as failing_rows, "
        "count(distinct line) as lines from {home}.quarantine.row_problems group by all",
        "Failing rows per load and rule (values withheld).",
    ),
    "extract_problems": ("select * from {home}.audit.extract_problems", "Whole-extract problems: held back or warned."),
    "problems": (
        "select partner, feed, rule_id, column_name, severity, opened_at, last_seen_at, extracts_seen, closed_at, "
        "escalated_at from {home}.quarantine.problems",
        "Each distinct data problem: opened, last seen, closed.",
    ),
    "reminders": (
        "select partner, feed, due_at, kind, sent_at, status from {home}.audit.reminders",
        "Late-extract reminders and escalations sent.",
    ),
}


def _core_views(con: duckdb.DuckDBPyConnection) -> None:
    as_at = f"coalesce(getvariable('as_at_load'), {MAX_LOAD})"
    for feed, contract in all_contracts().items():
        con.execute(
            f"""create or replace view core.{feed} as
                select * exclude (_replaced_by) from history.{feed}
                where _loaded_by <= {as_at} and (_replaced_by is null or _replaced_by > {as_at})"""
        )
        title = f"{contract.title}, current rows (or as at load getvariable(as_at_load)). {contract.grain}"
        con.execute(f"comment on view core.{feed} is {sql_literal(title)}")
        for name, _, _ in stored_columns(contract):
            source = contract.columns.get(name)
            if source is not None:
                text = source.description or f"{name} as sent ({source.type})."
                if source.identifier:
                    text = f"Pseudonym (keyed hash, namespace {source.identifier}) of {name}. " + text
            elif name.endswith("_month"):
                text = f"{name[:-6]} reduced to the first day of its month (minimisation)."
            elif name.endswith("_outward"):
                text = f"{name[:-8]} reduced to its outward code (minimisation)."
            else:
                text = f"Age in whole years at {name[7:]}, computed on load from the full date of birth."
            con.execute(f'comment on column core.{feed}."{name}" is {sql_literal(text)}')
            con.execute(f'comment on column history.{feed}."{name}" is {sql_literal(text)}')
        lineage = {
            "_as_of": "The date this row's extract speaks for (its declared period end, else the day it arrived).",
            "_extract_id": "Lineage: the extract (audit.extracts) this row came from.",
            "_line": "Lineage: the line of the partner's file (the header is line 1).",
            "_loaded_by": "Lineage: the load (audit.loads) that brought this version.",
        }
        for column, text in lineage.items():
            con.execute(f"comment on column core.{feed}.{column} is {sql_literal(text)}")
            con.execute(f"comment on column history.{feed}.{column} is {sql_literal(text)}")
        con.execute(
            f"comment on column history.{feed}._replaced_by is "
            f"{sql_literal('Lineage: the load that replaced or withdrew this version (NULL while it is current).')}"
        )


def apply_transforms(con: duckdb.DuckDBPyConnection) -> None:
    """Create every model, layer by layer. Within a layer, a model that reads another not yet created waits for a
    later pass, so files need no numbering; a pass that creates nothing means a real error, which is raised."""
    for layer in LAYERS:
        remaining = sorted((TRANSFORMS / layer).glob("*.sql"))
        while remaining:
            waiting, error = [], None
            for path in remaining:
                try:
                    con.execute(path.read_text())
                except (duckdb.CatalogException, duckdb.BinderException) as e:
                    waiting.append(path)
                    error = e
            if len(waiting) == len(remaining):
                raise RuntimeError(f"transforms/{layer}/{waiting[0].name}: {error}") from error
            remaining = waiting


def _inherit_column_comments(con: duckdb.DuckDBPyConnection) -> None:
    """A model column with no comment of its own takes the comment of the core column of the same name."""
    rows = con.execute(
        """select v.schema_name, v.table_name, v.column_name, any_value(c.comment)
           from duckdb_columns() v join duckdb_columns() c
             on c.database_name = v.database_name and c.schema_name = 'core' and c.column_name = v.column_name
           where v.database_name = current_database() and v.schema_name in ('conformed', 'kpi')
             and v.comment is null and c.comment is not null
           group by all"""
    ).fetchall()
    for schema, view, column, comment in rows:
        con.execute(f'comment on column {schema}.{view}."{column}" is {sql_literal(comment)}')


PARTNERSHIP_COLUMNS = {
    "partnership_name": "The partnership's name.",
    "la_code": "ONS code of the partnership's local authority.",
    "la_name": "Name of the partnership's local authority.",
    "comparator_area_code": "ONS code of the area its figures are compared with beside England.",
    "comparator_area_name": "Name of that area.",
}


def _partnership(con: duckdb.DuckDBPyConnection, area: dict[str, str]) -> None:
    columns = ", ".join(f"{sql_literal(v)} as {k}" for k, v in area.items())
    con.execute(f"create table core.partnership as select {columns}")
    con.execute(
        "comment on table core.partnership is 'The partnership (config/partnership.yml): its LA, and the area its "
        "figures are compared with beside England (published_comparators area_code).'"
    )
    for column, comment in PARTNERSHIP_COLUMNS.items():
        con.execute(f"comment on column core.partnership.{column} is {sql_literal(comment)}")


def _reading(body: str, models: list[tuple[str, str]], hidden_schema: str) -> str:
    """``body`` with each of the materialised ``models`` it names read from ``hidden_schema`` (``_stored`` or
    ``_live``) directly."""
    for schema, name in models:
        body = re.sub(rf"\b{schema}\.{name}\b", f"{hidden_schema}.{schema}__{name}", body)
    return body


def _materialise(con: duckdb.DuckDBPyConnection) -> None:
    """Store the current result of each MATERIALISED model. Its definition moves to ``_live.<schema>__<name>`` and
    its result to ``_stored.<schema>__<name>``; the model itself becomes a view that reads the stored result, or,
    when ``as_at_load`` is set, the live definition (DuckDB prunes the other branch when it plans the query, so
    neither costs the other anything). Comments stay with the model."""
    con.execute("create schema if not exists _live")
    con.execute("create schema if not exists _stored")
    # the catalog read once: each read lists every column of every view (binding the views to find them)
    views = {
        (schema, name): (sql, comment)
        for schema, name, sql, comment in con.execute(
            "select schema_name, view_name, sql, comment from duckdb_views() "
            "where database_name = current_database() and not internal"
        ).fetchall()
    }
    columns: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for schema, name, column, text in con.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where database_name = current_database() order by schema_name, table_name, column_index"
    ).fetchall():
        columns.setdefault((schema, name), []).append((column, text))
    names = []
    for item in MATERIALISED:
        schema, name = item.split(".")
        if name == "*":
            found = sorted(v for s, v in views if s == schema)
            names += [(schema, v) for v in found if v != "measures"] + [(schema, "measures")] * ("measures" in found)
        else:
            names.append((schema, name))
    done: list[tuple[str, str]] = []
    for schema, name in names:
        sql, comment = views[(schema, name)]
        prefix = f"CREATE VIEW {schema}.{name} AS "
        if not sql.startswith(prefix):
            raise RuntimeError(f"cannot materialise {schema}.{name}: its definition starts {sql[:60]!r}")
        hidden = f"{schema}__{name}"
        body = sql[len(prefix) :]
        # stored: computed from what it depends on as already stored; live: reads what it depends on live too, so
        # each binds one tree, not both (kpi.measures' stored table bound in 0.04 s, through the views in 0.54 s)
        con.execute(f"create table _stored.{hidden} as {_reading(body, done, '_stored')}")
        con.execute(f"CREATE VIEW _live.{hidden} AS {_reading(body, done, '_live')}")
        done.append((schema, name))
        con.execute(f"drop view {schema}.{name}")
        con.execute(
            f"""create view {schema}.{name} as
                select * from _stored.{hidden} where getvariable('as_at_load') is null
                union all
                select * from _live.{hidden} where getvariable('as_at_load') is not null"""
        )
        con.execute(f"comment on view {schema}.{name} is {sql_literal(comment or '')}")
        for column, text in columns[(schema, name)]:
            if text:
                con.execute(f'comment on column {schema}.{name}."{column}" is {sql_literal(text)}')


def build(con: duckdb.DuckDBPyConnection, target: Path, area: dict[str, str], threshold: int = 5) -> None:
    """Write a complete published warehouse to ``target`` from the loader connection ``con``; ``area`` is the
    partnership's area and comparator (``Config.area``), which the KPI views read from ``core.partnership``."""
    if target.exists():
        target.unlink()
    home = con.execute("select current_database()").fetchone()[0]
    for contract in all_contracts().values():
        ensure_table(con, contract)  # a feed never loaded still gets its (empty) table and views
    con.execute(f"attach {sql_literal(str(target))} as pub")
    try:
        con.execute("use pub")
        for schema in ("history", "core", *LAYERS):
            con.execute(f"create schema if not exists {schema}")
        for feed in all_contracts():
            con.execute(
                f"create table history.{feed} as select * exclude ({', '.join(LOADER_ONLY)}) from {home}.history.{feed}"
            )
        for table, (query, comment) in AUDIT_COPIES.items():
            con.execute(f"create table audit.{table} as {query.format(home=home)}")
            con.execute(f"comment on table audit.{table} is {sql_literal(comment)}")
        _core_views(con)
        _partnership(con, area)
        apply_transforms(con)
        _inherit_column_comments(con)
        _materialise(con)
        disclosure.publish_views(con, threshold)
        con.execute(
            """create or replace view main.catalog as
               select v.schema_name, v.view_name as object_name, 'view' as kind, null as column_name,
                      null as data_type, v.comment
               from duckdb_views() v where not v.internal and v.database_name = current_database()
                 and not starts_with(v.schema_name, '_')
               union all
               select t.schema_name, t.table_name, 'table', null, null, t.comment
               from duckdb_tables() t where t.database_name = current_database()
                 and not starts_with(t.schema_name, '_')
               union all
               select c.schema_name, c.table_name, 'column', c.column_name, c.data_type, c.comment
               from duckdb_columns() c where c.database_name = current_database() and not c.internal
                 and not starts_with(c.schema_name, '_')
               order by 1, 2, 3, 4"""
        )
        con.execute("comment on view main.catalog is 'Every schema, view, table and column here, with what it means.'")
    finally:
        con.execute(f"use {home}")
        con.execute("detach pub")


def publish(con: duckdb.DuckDBPyConnection, published: Path, area: dict[str, str], threshold: int = 5) -> Path:
    """Build the published warehouse next to ``published`` and swap it in atomically; keep the previous one."""
    nxt = published.with_name(published.stem + ".next.duckdb")
    prev = published.with_name(published.stem + ".prev.duckdb")
    # Nothing published is read in storage order (a sorted kpi view stays sorted); the cap: PUBLISH_MEMORY_SHARE.
    with any_row_order(con), memory_share(con, PUBLISH_MEMORY_SHARE):
        build(con, nxt, area, threshold)
    if published.exists():
        if prev.exists():
            prev.unlink()
        os.link(published, prev)
    os.replace(nxt, published)
    return published
