"""Validate a staged extract: every rule of its contract, every failing row found and recorded.

Row problems go to ``quarantine.row_problems`` (line, rule, column, offending value, message, fix). A row with any
``error`` problem is quarantined; ``warning`` problems are reported and the row loads. Values of identifier columns
are never copied into the warehouse: the partner's alert re-reads its own rows from the landed file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from expectations.contract import Contract, Rule
from expectations.sql import sql_literal
from expectations.suite import run_suite


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


def _value_expr(contract: Contract, rule: Rule) -> str:
    def one(col: str) -> str:
        if contract.columns[col].identifier:
            return f"CASE WHEN \"{col}__raw\" IS NULL THEN '(blank)' ELSE '(identifier withheld)' END"
        return f"coalesce(left(\"{col}__raw\", 80), '(blank)')"

    if len(rule.columns) == 1:
        return one(rule.columns[0])
    return " || '; ' || ".join(f"'{c}=' || {one(c)}" for c in rule.columns)


def record_malformed(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    extract_id: str,
    contract: Contract,
    partner: str,
    rejects: list[tuple[int, str]],
) -> None:
    if not rejects:
        return
    con.executemany(
        "insert into quarantine.row_problems values (?, ?, ?, ?, ?, 'line.malformed', 'malformed', 'error', "
        "NULL, NULL, ?, ?)",
        [
            [
                load_id,
                extract_id,
                contract.feed,
                partner,
                line,
                MALFORMED.get(kind, f"The line cannot be read ({kind})."),
                MALFORMED_FIX,
            ]
            for line, kind in rejects
        ],
    )


def validate(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    table: str,
    *,
    load_id: int,
    extract_id: str,
    partner: str,
    as_of: dt.date,
    collection_year: int | None,
) -> Validation:
    """Run every rule on ``table`` through GX and record every failing row; the two counts must agree."""
    rules = contract.rules(as_of, collection_year)
    selects = []
    for rule in rules:
        clause = "QUALIFY" if rule.kind == "unique" else "WHERE"
        selects.append(
            f"SELECT {load_id}, {sql_literal(extract_id)}, {sql_literal(contract.feed)}, {sql_literal(partner)}, "
            f"_line, {sql_literal(rule.id)}, {sql_literal(rule.kind)}, {sql_literal(rule.severity)}, "
            f"{sql_literal(', '.join(rule.columns))}, {_value_expr(contract, rule)}, {sql_literal(rule.message)}, "
            f"{sql_literal(rule.fix)} FROM {table} {clause} {rule.fails_when}"
        )
    con.execute("insert into quarantine.row_problems " + " UNION ALL ".join(selects))
    counts = dict(
        con.execute(
            "select rule_id, count(*) from quarantine.row_problems where load_id = ? group by rule_id",
            [load_id],
        ).fetchall()
    )

    outcomes = run_suite(con, table, rules, suite_name=f"{contract.feed}_v{contract.version}_load{load_id}")
    for o in outcomes:
        mine = counts.get(o.rule_id, 0)
        if o.failing_rows != mine:
            raise ValidationMismatch(
                f"{o.rule_id}: GX counts {o.failing_rows} failing rows, the rule's SQL finds {mine}"
            )
    severity = {r.id: r.severity for r in rules}
    con.executemany(
        "insert into audit.validation_results values (?, ?, ?, ?, ?, ?)",
        [[load_id, o.rule_id, severity[o.rule_id], o.expectation, o.success, o.failing_rows] for o in outcomes],
    )
    quarantined, warned = con.execute(
        """select count(distinct line) filter (where severity = 'error'),
                  count(distinct line) filter (where severity = 'warning' and line not in (
                      select line from quarantine.row_problems where load_id = $1 and severity = 'error'))
           from quarantine.row_problems where load_id = $1""",
        [load_id],
    ).fetchone()
    return Validation(rules, quarantined, warned, counts)
