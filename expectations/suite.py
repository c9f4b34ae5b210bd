"""Great Expectations suites built from the contracts, run on DuckDB through the loader's own connection.

GX 1.24 has no DuckDB dialect. Two small, guarded patches make its SQL path work (see ../shared/stack-notes.md
and tests/expectations/test_suite.py, which fails if a GX upgrade changes what they touch):

- DuckDB joins the dialects whose connection GX keeps open, so results are fetched before any rollback;
- regex expectations use DuckDB's ``regexp_matches`` (a partial match: the contract's regexes are anchored).

Rules GX has no native expectation for (types, dates not in the future, the key's uniqueness, cross-column rules)
are checked by their SQL in a subclass of GX's ``UnexpectedRowsExpectation`` that asks GX for the count only.

GX shares the loader's connection (a cursor of it), so the staged table is validated where it was written, with no
second process or file lock. GX gives the verdict and the count of failing rows for every rule; the rows themselves
come from the same rule's SQL (:mod:`expectations.validate`) and the two counts must agree.
"""

from __future__ import annotations

import importlib
import logging
import os
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import duckdb

from expectations.contract import Rule

_patched = False


def _patch_gx() -> None:
    global _patched
    if _patched:
        return
    import sqlalchemy as sa
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see
    from great_expectations.expectations.metrics import util as mutil

    class _DuckDBName(str):
        value = "duckdb"

    see._PERSISTED_CONNECTION_DIALECTS = (*see._PERSISTED_CONNECTION_DIALECTS, _DuckDBName("duckdb"))
    original = mutil.get_dialect_regex_expression

    def regex_expression(column: Any, regex: str, dialect: Any, positive: bool = True) -> Any:
        if getattr(dialect, "name", None) == "duckdb":
            expr = sa.func.regexp_matches(column, sa.literal(regex))
            return expr if positive else sa.not_(expr)
        return original(column, regex, dialect, positive)

    for module in (
        "column_values_match_regex",
        "column_values_not_match_regex",
        "column_values_match_regex_list",
        "column_values_not_match_regex_list",
    ):
        mod = importlib.import_module(f"great_expectations.expectations.metrics.column_map_metrics.{module}")
        mod.get_dialect_regex_expression = regex_expression
    _patched = True


def expectation_for(rule: Rule) -> Any:
    """The GX expectation that checks ``rule``: a native one where GX has it, else the rule's own SQL."""
    import great_expectations.expectations as gxe

    meta = {"rule_id": rule.id}
    col = rule.columns[0]
    if rule.kind == "required":
        return gxe.ExpectColumnValuesToNotBeNull(column=f"{col}__raw", meta=meta)
    if rule.kind == "codes":
        return gxe.ExpectColumnValuesToBeInSet(column=f"{col}__raw", value_set=list(rule.codes), meta=meta)
    if rule.kind == "format":
        return gxe.ExpectColumnValuesToMatchRegex(column=f"{col}__raw", regex=rule.regex, meta=meta)
    if rule.kind == "range":
        return gxe.ExpectColumnValuesToBeBetween(column=col, min_value=rule.min, max_value=rule.max, meta=meta)
    clause = "QUALIFY" if rule.kind == "unique" else "WHERE"
    # GX fills {batch} with str.format: a brace of the rule's own SQL (a regex quantifier such as [0-9]{11}) is
    # doubled so it reaches DuckDB as written.
    predicate = rule.fails_when.replace("{", "{{").replace("}", "}}")
    return _counted_rows_expectation()(
        unexpected_rows_query=f"SELECT _line FROM {{batch}} {clause} {predicate}",
        description=rule.message,
        meta=meta,
    )


_COUNTED: Any = None


def _counted_rows_expectation() -> Any:
    """GX's ``UnexpectedRowsExpectation`` asking only for the count of rows the query returns.

    GX's own runs the query twice, once counted and once fetched, and under BASIC it drops the fetched rows unread;
    at national size that fetch is a noticeable cost per large extract (measured: bench/NOTES.md). This one depends on
    the count alone (tests/expectations/test_suite.py checks its verdicts and counts, and that it is GX's class)."""
    global _COUNTED
    if _COUNTED is None:
        import great_expectations.expectations as gxe

        class ExpectNoRowsBreakingTheRule(gxe.UnexpectedRowsExpectation):
            metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

            def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine: Any = None):
                failing = metrics["unexpected_rows_query.row_count"]
                return {"success": failing == 0, "result": {"observed_value": failing}}

        _COUNTED = ExpectNoRowsBreakingTheRule
    return _COUNTED


# What GX is asked for: each rule's verdict and count of failing rows, nothing more. The failing rows themselves come
# from the rule's own SQL; SUMMARY would add, per rule, queries for sample values and row indices that nobody reads
# (a third of GX's time on a million-row extract). With no sample asked for, GX's sample query is a LIMIT 0.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


@dataclass(frozen=True)
class GxOutcome:
    rule_id: str
    expectation: str
    success: bool
    failing_rows: int


def run_suite(
    con: duckdb.DuckDBPyConnection, batches: list[tuple[str, list[Rule]]], suite_name: str
) -> list[GxOutcome]:
    """Validate each table of ``batches`` (``[database.]schema.name``) against a suite of its rules with GX, in one GX
    context (making one costs a noticeable part of a small extract's validation); one outcome per rule."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from duckdb_engine import ConnectionWrapper
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)

    _patch_gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    sources: dict[str, Any] = {}  # one per database the tables live in

    def source_for(catalog: str) -> Any:
        if catalog not in sources:

            def new_cursor() -> ConnectionWrapper:
                cursor = con.cursor()
                if catalog:  # an attached database (the loader's in-memory scratch): GX names only schema and table
                    cursor.execute(f"use {catalog}")
                return ConnectionWrapper(cursor)

            sources[catalog] = context.data_sources.add_sql(
                f"warehouse{len(sources)}", connection_string="duckdb:///:memory:", kwargs={"creator": new_cursor}
            )
        return sources[catalog]

    outcomes = []
    try:
        for n, (table, rules) in enumerate(batches):
            *catalog, schema, name = table.split(".")  # [database.]schema.table
            source = source_for(catalog[0] if catalog else "")
            with warnings.catch_warnings():  # GX 1.24 deprecates schema_name but offers no other way for a table asset
                warnings.simplefilter("ignore", DeprecationWarning)
                asset = source.add_table_asset(f"{name}_{n}", table_name=name, schema_name=schema)
            batch = asset.add_batch_definition_whole_table("extract").get_batch()
            # The suite is built whole and validated directly: adding expectations one by one to a stored suite
            # re-serialises the suite on every add, and storing the suite and its results is work nobody reads (the
            # outcomes are kept in audit.validation_results).
            suite = gx.ExpectationSuite(name=f"{suite_name}_{n}", expectations=[expectation_for(r) for r in rules])
            result = batch.validate(suite, result_format=RESULT_FORMAT)
            for r in result.results:
                cfg = r.expectation_config
                failing = r.result.get("unexpected_count")
                if failing is None:
                    failing = r.result.get("observed_value") or 0
                # exception_info is either one {raised_exception, exception_message} or one such per failed metric
                info = r.exception_info or {}
                errors = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
                for error in errors:
                    if error.get("raised_exception"):
                        raise RuntimeError(
                            f"GX could not evaluate {cfg.meta['rule_id']}: {error.get('exception_message')}"
                        )
                outcomes.append(GxOutcome(cfg.meta["rule_id"], cfg.type, bool(r.success), int(failing)))
        return outcomes
    finally:
        # End GX's persisted connections (an open transaction would block CHECKPOINT), then their pools.
        for source in sources.values():
            engine = source.get_execution_engine()
            if engine._connection is not None:
                engine._connection.close()
            engine.close()
