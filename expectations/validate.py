"""Validating a staged extract: the query for every failing row of every rule of its contract, and GX's verdict on
each rule, which must count the same rows. The warehouse records them (:func:`warehouse.load.validate`).

Each failing row is a row problem (line, rule, column, offending value, message, fix). A row with any ``error``
problem is quarantined; ``warning`` problems are reported and the row loads. Values of identifier columns are never
copied into the warehouse: the partner's alert re-reads its own rows from the landed file.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from expectations.contract import Contract, Rule
from expectations.sql import sql_literal
from expectations.suite import GxOutcome, run_suite


class ValidationMismatch(RuntimeError):
    """GX and the rule's own SQL disagree on how many rows fail: a program fault, never a partner's."""


MALFORMED = {
    "TOO MANY COLUMNS": "The line has more fields than the header (a stray comma, or an unquoted value?).",
    "MISSING COLUMNS": "The line has fewer fields than the header.",
    "UNQUOTED VALUE": "The line has a quote character inside a value that is not quoted.",
    "INVALID UNICODE": "The line holds bytes that are not UTF-8.",
}
MALFORMED_FIX = (
    "Check this line in your export: each line must have exactly one value per header column, and any value "
    "containing a comma or a quote must be wrapped in double quotes."
)


@dataclass(frozen=True)
class Validation:
    rules: list[Rule]
    quarantined_lines: int
    warned_lines: int
    failing_by_rule: dict[str, int]
    plan: list[tuple[str, list[Rule]]]  # the rules by the table each ran on (every row, or the rows that changed)


def _value_expr(contract: Contract, rule: Rule) -> str:
    def one(col: str) -> str:
        if contract.columns[col].identifier:
            return f"CASE WHEN \"{col}__raw\" IS NULL THEN '(blank)' ELSE '(identifier withheld)' END"
        return f"coalesce(left(\"{col}__raw\", 80), '(blank)')"

    if len(rule.columns) == 1:
        return one(rule.columns[0])
    return " || '; ' || ".join(f"'{c}=' || {one(c)}" for c in rule.columns)


def malformed_problem(kind: str) -> tuple[str, str]:
    """The message and fix for a line staging could not read (``kind``: DuckDB's name for why)."""
    return MALFORMED.get(kind, f"The line cannot be read ({kind})."), MALFORMED_FIX


def failing_rows(contract: Contract, rules: list[Rule], table: str, *, load_id: int, extract_id: str,
                 partner: str) -> list[str]:  # fmt: skip
    """For each of ``rules``, the query for every row of ``table`` that fails it, one row per line, in the columns of
    ``quarantine.row_problems``; identifier values withheld. One query per rule: run together as one UNION ALL, the
    SSDA903 rules across a child's episodes (each a window over the extract) took four times as long as one by one
    (measured: bench/NOTES.md)."""
    queries = []
    for rule in rules:
        clause = "QUALIFY" if rule.kind == "unique" else "WHERE"
        queries.append(
            f"SELECT {load_id}, {sql_literal(extract_id)}, {sql_literal(contract.feed)}, {sql_literal(partner)}, "
            f"_line, {sql_literal(rule.id)}, {sql_literal(rule.kind)}, {sql_literal(rule.severity)}, "
            f"{sql_literal(', '.join(rule.columns))}, {_value_expr(contract, rule)}, {sql_literal(rule.message)}, "
            f"{sql_literal(rule.fix)} FROM {table} {clause} {rule.fails_when}"
        )
    return queries


def gx_verdicts(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    batches: list[tuple[str, list[Rule]]],
    *,
    load_id: int,
    failing_by_rule: dict[str, int],
) -> list[GxOutcome]:
    """Run each table's rules of ``batches`` through GX; its count of failing rows for each rule must be the count
    the rule's own SQL found on that table (``failing_by_rule``), or this raises :class:`ValidationMismatch`."""
    outcomes = run_suite(con, batches, suite_name=f"{contract.feed}_v{contract.version}_load{load_id}")
    for o in outcomes:
        mine = failing_by_rule.get(o.rule_id, 0)
        if o.failing_rows != mine:
            raise ValidationMismatch(
                f"{o.rule_id}: GX counts {o.failing_rows} failing rows, the rule's SQL finds {mine}"
            )
    return outcomes
