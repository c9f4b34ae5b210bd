"""Publishing: build the analysts' file and swap it in atomically.

The published file ``<data>/yos.duckdb`` holds only pseudonymised data and views: ``history`` (every version, as
views over Parquet parts written once per load: :mod:`warehouse.history_parts`), the ``core`` views of current rows
(as at any load), the SQL models in ``transforms/`` (in the order of the inputs each declares in the YAML beside it),
audit figures without row values, and a ``catalog`` of every view and column. The stored models are computed from
the loader's own current versions (the same rows the parts hold, read without joining the replacements back on). It
is built as ``yos.next.duckdb``, checkpointed, and renamed over the live file: an analyst who has the old file open
keeps a consistent view, a new connection sees the new data, and nobody ever sees a half-built file. The previous
file is kept as ``yos.prev.duckdb`` for rollback, and so are the parts it reads.

The pipeline publishes in a process of its own (:func:`publish_apart`, ``python -m warehouse.publish``), one that
never read an extract or the pseudonym key, so its spill need not be encrypted: the stored models spill at national
size, and encrypted they took three times as long.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from expectations.contract import all_contracts, load_yaml
from expectations.sql import sql_literal
from partnership import progress
from warehouse import audit, disclosure, history_parts
from warehouse.db import WarehouseBusy, any_row_order, connect_loader, memory_share
from warehouse.loading import ensure_table, stored_columns

TRANSFORMS = Path(__file__).resolve().parents[1] / "transforms"
LAYERS = ("conformed", "kpi", "audit")
# Models computed once per publish and stored, so that an analyst's query (and the board pack) reads a table, not
# a chain of joins over every row (each kpi view then answers quickly at national scale; measured: bench/NOTES.md).
# In dependency order; "kpi.*" is every kpi view, kpi.measures last. Set as_at_load and each reads its live
# definition instead. conformed.kpi_caseload is read by six kpi views (twice by kpi.health_needs, which at national
# size ran out of memory computing it twice at once under the default cap). conformed.outcomes and
# conformed.disposals: read live, their core views' estimated sizes (far below the real ones) made
# kpi.disproportionality hash the wrong side of its joins and run out of memory at national size, even under caps
# well above the default (measured: bench/NOTES.md); conformed.children reads them, stored.
MATERIALISED = ("conformed.child_identifiers", "conformed.outcomes", "conformed.disposals", "conformed.children",
                "conformed.proven_outcomes",
                "conformed.reoffending_members", "conformed.reoffending_cohorts", "conformed.kpi_caseload",
                "kpi.*")  # fmt: skip
# Publishing runs under this share of the loader's DuckDB cap. The cap bounds DuckDB's buffers, not all it
# allocates, and the stored models overshoot it more than loading does, so the process's peak memory at national
# size sits well above the cap; a lower share for publishing alone lowers that peak for a little more time
# (measured: bench/NOTES.md). The publisher's process runs beside the flow's, which keeps its own memory meanwhile
# (300-400 MB, Prefect and GX): at 0.85 the two peaked at 1,533 MB at national size, so 0.7 (its spill, in the
# clear, costs less than the loader's).
PUBLISH_MEMORY_SHARE = 0.7

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
# The loader's table each copy is made from: a copied column keeps that column's comment (the loader's tables are
# commented by warehouse/migrations/004_column_comments.sql); a column the copy computes is commented here.
AUDIT_SOURCES = {"loads": "audit.loads", "extracts": "landing.extracts", "data_quality": "quarantine.row_problems",
                 "extract_problems": "audit.extract_problems", "problems": "quarantine.problems",
                 "reminders": "audit.reminders"}  # fmt: skip
AUDIT_COMPUTED = {
    ("data_quality", "failing_rows"): "Failing rows the load found for the rule (one row may break several rules).",
    ("data_quality", "lines"): "Distinct lines of the partner's file that broke the rule.",
}


def _audit_comments(con: duckdb.DuckDBPyConnection, home: str, table: str) -> None:
    """Give each column of the published ``audit.<table>`` the comment of the loader's column it copies (or the one
    :data:`AUDIT_COMPUTED` gives it)."""
    schema, source = AUDIT_SOURCES[table].split(".")
    sourced = dict(
        con.execute(
            "select column_name, comment from duckdb_columns() where database_name = ? and schema_name = ? "
            "and table_name = ?",
            [home, schema, source],
        ).fetchall()
    )
    for (column,) in con.execute(
        "select column_name from duckdb_columns() where database_name = 'pub' and schema_name = 'audit' "
        "and table_name = ?",
        [table],
    ).fetchall():
        text = AUDIT_COMPUTED.get((table, column)) or sourced.get(column)
        if text:
            con.execute(f'comment on column audit.{table}."{column}" is {sql_literal(text)}')


def _core_views(con: duckdb.DuckDBPyConnection) -> None:
    """``core.<feed>`` for every feed: ``transforms/core/current_rows.sql`` rendered per feed, then the comment on each
    of the feed's own columns. Those are generated here because they are the contract's (its columns, their
    descriptions and what loading derives from them): the contract is their one source, and a SQL copy would drift."""
    template = (TRANSFORMS / "core" / "current_rows.sql").read_text()
    for feed, contract in all_contracts().items():
        sql = render(template, feed=feed, title=contract.title, grain=contract.grain)
        _execute(con, "transforms/core/current_rows.sql", sql)
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
        comment = f"{contract.title}: every version of every row. {contract.grain} (contract v{contract.version})"
        con.execute(f"comment on view history.{feed} is {sql_literal(comment)}")


def render(template: str, **values: str) -> str:
    """``template`` with each ``{{ name }}`` replaced by ``values[name]``, its quotes doubled so that it can stand in
    an identifier or inside a SQL string alike (the names are feeds and the values contract text)."""

    def value(m: re.Match[str]) -> str:
        if m[1] not in values:
            raise ModelError(f"the template names {{{{{m[1]}}}}}, which is not given (only {', '.join(values)})")
        return values[m[1]].replace("'", "''")

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", value, template)


class ModelError(RuntimeError):
    """A model cannot be built: its declaration is wrong, its inputs form a cycle or do not exist, or its SQL fails.
    The message starts with the file at fault."""


@dataclass(frozen=True)
class Model:
    """One SQL model, ``transforms/<layer>/<name>.sql``, as declared by ``<name>.yml`` beside it."""

    name: str  # <layer>.<name>, the view it creates
    path: Path
    grain: str
    inputs: tuple[str, ...]
    unique: tuple[str, ...]

    @property
    def file(self) -> str:
        """The model's SQL file, relative to the repository (how errors name it)."""
        return f"transforms/{self.path.parent.name}/{self.path.name}"


MODEL_KEYS = {"grain": str, "inputs": list, "unique": list}


def read_models(root: Path = TRANSFORMS) -> dict[str, Model]:
    """Every model under ``root``'s layers, by name, from its ``.sql`` and the ``.yml`` declaring it."""
    models: dict[str, Model] = {}
    for layer in LAYERS:
        for sql in sorted((root / layer).glob("*.sql")):
            spec_path, where = sql.with_suffix(".yml"), f"transforms/{layer}/{sql.stem}.yml"
            if not spec_path.exists():
                raise ModelError(f"{where}: missing; every model declares its grain, inputs and unique key")
            spec = load_yaml(spec_path.read_text()) or {}
            wrong = [k for k, kind in MODEL_KEYS.items() if not isinstance(spec.get(k), kind)]
            if wrong or set(spec) - set(MODEL_KEYS):
                raise ModelError(f"{where}: needs grain (text), inputs (a list) and unique (a list), and no other key")
            models[f"{layer}.{sql.stem}"] = Model(
                f"{layer}.{sql.stem}", sql, spec["grain"], tuple(spec["inputs"]), tuple(spec["unique"])
            )
        for spec_path in sorted((root / layer).glob("*.yml")):
            if not spec_path.with_suffix(".sql").exists():
                raise ModelError(f"transforms/{layer}/{spec_path.name}: declares a model with no SQL beside it")
    return models


def build_order(models: dict[str, Model], existing: set[str]) -> list[Model]:
    """``models`` in an order where each comes after every model it declares as an input (layer by layer, then by
    name, where the inputs leave a choice). An input that is neither a model nor in ``existing`` (the relations
    already built: core views, history and audit tables), or a cycle, raises ModelError naming the model."""
    order: list[Model] = []
    state: dict[str, str] = {}  # name -> "visiting" while its inputs are being placed, "done" once placed

    def place(model: Model, path: list[str]) -> None:
        if state.get(model.name) == "done":
            return
        if state.get(model.name) == "visiting":
            cycle = path[path.index(model.name) :] + [model.name]
            raise ModelError(f"{model.file}: its inputs form a cycle: {' -> '.join(cycle)}")
        state[model.name] = "visiting"
        for name in model.inputs:
            if name in models:
                place(models[name], [*path, model.name])
            elif name not in existing:
                raise ModelError(f"{model.file}: declares input {name}, which is neither a model nor in the warehouse")
        state[model.name] = "done"
        order.append(model)

    for name in sorted(models, key=lambda n: (LAYERS.index(n.split(".")[0]), n)):
        place(models[name], [])
    return order


def _execute(con: duckdb.DuckDBPyConnection, file: str, sql: str) -> None:
    try:
        con.execute(sql)
    except duckdb.Error as e:
        raise ModelError(f"{file}: {e}") from e


def apply_transforms(con: duckdb.DuckDBPyConnection, root: Path = TRANSFORMS) -> None:
    """Create the macros (``transforms/macros/``), then every model in the order its declared inputs give. A model
    that fails raises ModelError naming its own file."""
    for path in sorted((root / "macros").glob("*.sql")):
        _execute(con, f"transforms/macros/{path.name}", path.read_text())
    existing = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            "union all select schema_name, view_name from duckdb_views() "
            "where database_name = current_database() and not internal"
        ).fetchall()
    }
    order = build_order(read_models(root), existing)
    with progress.step("publishing: models", total=len(order), unit="models") as shown:
        for model in order:
            _execute(con, model.file, model.path.read_text())
            shown.advance()


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


def _current_rows_from_loader(con: duckdb.DuckDBPyConnection, home: str) -> None:
    """While the stored models are computed, each ``core.<feed>`` reads the current versions from the loader's own
    table (``home``), not the Parquet parts with their replacements joined back on: the same rows, read from
    DuckDB's own storage, filtered on a column rather than joined. :func:`_core_views` then points them back at the
    published history (the analysts' file never reads the loader's)."""
    for feed in all_contracts():
        current = f"{history_parts.published_rows(f'{home}.history.{feed}')} where {history_parts.CHANGES} is null"
        con.execute(f"create or replace view core.{feed} as {current}")


def _reading(body: str, models: list[tuple[str, str]], hidden_schema: str) -> str:
    """``body`` with each of the materialised ``models`` it names read from ``hidden_schema`` (``_stored`` or
    ``_live``) directly."""
    for schema, name in models:
        body = re.sub(rf"\b{schema}\.{name}\b", f"{hidden_schema}.{schema}__{name}", body)
    return body


def _materialise(con: duckdb.DuckDBPyConnection) -> None:
    """Store the current result of each MATERIALISED model. Its definition moves to ``_live.<schema>__<name>`` and
    its result to ``_stored.<schema>__<name>``; the model itself becomes a view that reads the stored result, or,
    when ``as_at_load`` is set, the live definition (only the branch read is bound, so neither costs the other
    anything). Comments stay with the model."""
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
    with progress.step("publishing: stored models", total=len(names), unit="models") as shown:
        for schema, name in names:
            _store(con, schema, name, views[(schema, name)], columns[(schema, name)], done)
            shown.advance()


def _store(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    view: tuple[str, str | None],
    columns: list[tuple[str, str | None]],
    done: list[tuple[str, str]],
) -> None:
    """Store one model (see :func:`_materialise`); ``done``: the models stored before it, which it reads stored."""
    sql, comment = view
    prefix = f"CREATE VIEW {schema}.{name} AS "
    if not sql.startswith(prefix):
        raise RuntimeError(f"cannot materialise {schema}.{name}: its definition starts {sql[:60]!r}")
    hidden = f"{schema}__{name}"
    body = sql[len(prefix) :]
    # stored: computed from what it depends on as already stored; live: reads what it depends on live too, so
    # each binds one tree, not both (binding kpi.measures through every view's tree was many times slower)
    con.execute(f"create table _stored.{hidden} as {_reading(body, done, '_stored')}")
    con.execute(f"CREATE VIEW _live.{hidden} AS {_reading(body, done, '_live')}")
    done.append((schema, name))
    con.execute(f"drop view {schema}.{name}")
    # query() binds the one branch the variable chooses: a union of both, each filtered, bound both (kpi.measures,
    # over every kpi view, planned in 0.8 s at 1M police rows for a query that then read small tables)
    con.execute(
        f"""create view {schema}.{name} as select * from query(case when getvariable('as_at_load') is null
            then 'select * from _stored.{hidden}' else 'select * from _live.{hidden}' end)"""
    )
    con.execute(f"comment on view {schema}.{name} is {sql_literal(comment or '')}")
    for column, text in columns:
        if text:
            con.execute(f'comment on column {schema}.{name}."{column}" is {sql_literal(text)}')


def build(con: duckdb.DuckDBPyConnection, target: Path, area: dict[str, str], threshold: int = 5) -> set[Path]:
    """Write a complete published warehouse to ``target`` from the loader connection ``con``; ``area`` is the
    partnership's area and comparator (``Config.area``), which the KPI views read from ``core.partnership``. Returns
    the history parts it reads."""
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
        parts: set[Path] = set()
        with progress.step("publishing: history", total=len(all_contracts()), unit="feeds") as shown:
            for feed in all_contracts():  # each load's versions written once, as a part; the rest named again
                written = history_parts.write_parts(con, home, feed, target)
                history_parts.publish_view(con, home, feed, written)
                parts.update(written)
                shown.advance()
        for table, (query, comment) in AUDIT_COPIES.items():
            con.execute(f"create table audit.{table} as {query.format(home=home)}")
            con.execute(f"comment on table audit.{table} is {sql_literal(comment)}")
            _audit_comments(con, home, table)
        _core_views(con)
        _partnership(con, area)
        apply_transforms(con)
        _inherit_column_comments(con)
        _current_rows_from_loader(con, home)
        _materialise(con)
        _core_views(con)  # the core views read the published history again, and their comments come back
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
        return parts
    finally:
        con.execute(f"use {home}")
        con.execute("detach pub")


def publish(con: duckdb.DuckDBPyConnection, published: Path, area: dict[str, str], threshold: int = 5) -> Path:
    """Build the published warehouse next to ``published`` and swap it in atomically; keep the previous one."""
    nxt = published.with_name(published.stem + ".next.duckdb")
    prev = published.with_name(published.stem + ".prev.duckdb")
    # Nothing published is read in storage order (a sorted kpi view stays sorted); the cap: PUBLISH_MEMORY_SHARE.
    with any_row_order(con), memory_share(con, PUBLISH_MEMORY_SHARE):
        keep = build(con, nxt, area, threshold) | _parts_named(con, published)  # the live file becomes the previous
    if published.exists():
        if prev.exists():
            prev.unlink()
        os.link(published, prev)
    os.replace(nxt, published)
    history_parts.remove_unused(published, keep)
    return published


def _parts_named(con: duckdb.DuckDBPyConnection, path: Path) -> set[Path]:
    """The history parts the analysts' file at ``path`` reads (none if there is no file, or it predates parts)."""
    if not path.exists():
        return set()
    con.execute(f"attach {sql_literal(str(path))} as named (read_only)")
    try:
        return history_parts.named_by(con, "named")
    finally:
        con.execute("detach named")


class PublishFailed(RuntimeError):
    """The publisher's own process failed for a reason that is not a model's or a busy warehouse's."""


@dataclass(frozen=True)
class Published:
    """What the publisher's process did: the analysts' file it swapped in, and the loads the loader then held."""

    path: Path
    loads: int


PR_SET_PDEATHSIG = 1  # prctl(2)
# What the publisher's process may report, raised again as the same type in the process that asked.
REPORTED = {"ModelError": ModelError, "WarehouseBusy": WarehouseBusy}


def publish_apart(
    loader_db: Path, published: Path, area: dict[str, str], threshold: int = 5, withheld_env: Iterable[str] = ()
) -> Published:
    """:func:`publish` in a new process: it opens the loader's file (close every connection to it first), publishes,
    and closes it. Its spill is not encrypted, which is safe only because that process never read an extract: in
    one that has loaded, DuckDB spilled the HMAC's inputs from memory it had not cleared (bench/NOTES.md, change
    51). ``withheld_env``: environment variables it is not given (the secrets the configuration names: it needs
    none). Progress is shown as here (this process's display paused meanwhile); a failure is raised here with the
    child's message (ModelError and WarehouseBusy as themselves, anything else as PublishFailed on one line), never
    as its traceback."""
    request = {"loader_db": str(loader_db), "published": str(published), "area": area, "threshold": threshold,
               "progress": progress.showing(), "parent": os.getpid()}  # fmt: skip
    root = str(Path(__file__).resolve().parents[1])
    withheld = set(withheld_env)
    env = {k: v for k, v in os.environ.items() if k not in withheld}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    with progress.paused():
        done = subprocess.run(
            [sys.executable, "-m", "warehouse.publish"], input=json.dumps(request), stdout=subprocess.PIPE,
            encoding="utf-8", errors="replace", env=env, cwd=root, check=False,
        )  # fmt: skip
    try:
        answer = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise PublishFailed(
            f"the publisher's process ended (exit status {done.returncode}) without saying why (killed, or out of "
            "memory?): the analysts' file is whole, the one before or the new one; run the publish again"
        ) from None
    if answer.get("error") in REPORTED:
        raise REPORTED[answer["error"]](answer["message"])
    if "error" in answer:
        raise PublishFailed(f"publishing failed ({answer['error']}): {answer['message']}")
    return Published(Path(answer["published"]), answer["loads"])


def main() -> None:
    """The publisher's process: read the request :func:`publish_apart` sends on stdin, publish, and write one JSON
    answer to what was stdout: the published file and the loads, or the error (its type and message; no
    traceback). Anything else written to stdout meanwhile (DuckDB's own progress bar, say) goes to stderr."""
    answer_to = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    request = json.loads(sys.stdin.read())
    _die_with(request["parent"])
    try:
        con = connect_loader(Path(request["loader_db"]), encrypt_spill=False)
        try:
            con.execute("set enable_progress_bar = false")
            with progress.shown() if request["progress"] else contextlib.nullcontext():
                path = publish(con, Path(request["published"]), request["area"], request["threshold"])
            answer = {"published": str(path), "loads": audit.load_count(con)}
        finally:
            con.close()
    except KeyboardInterrupt:  # Ctrl-C reaches both processes: the one that asked says it was interrupted
        sys.exit(130)
    except ModelError as e:  # its file, and DuckDB's pointer to the place in it
        answer = {"error": "ModelError", "message": str(e)}
    except Exception as e:  # noqa: BLE001 - reported to the process that asked, which raises it there
        answer = {"error": type(e).__name__, "message": (str(e).strip().splitlines() or [type(e).__name__])[0]}
    answer_to.write(json.dumps(answer))
    answer_to.close()


def _die_with(parent: int) -> None:
    """Be killed when the process that asked dies (Linux's parent-death signal), as a publish in that process was:
    a run killed part way must not leave a publish running on, holding the loader's file, behind the next run."""
    if sys.platform == "linux" and ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        sys.stderr.write(
            f"publishing: cannot ask to end with the process that started it (errno {ctypes.get_errno()}): if that "
            "process is killed, this publish runs on to its end\n"
        )
    if os.getppid() != parent:  # it died before the signal was asked for
        sys.exit(1)


if __name__ == "__main__":
    main()
