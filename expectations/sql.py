"""Contracts are compiled to SQL (column types, rules, failing-row queries); this writes a value into such a
statement. The warehouse uses it for the statements it builds as text too."""

from __future__ import annotations


def sql_literal(value: str | int | None) -> str:
    """``value`` written as a SQL literal, for a statement built as text (a model, a rule, a view's comment).

    Statements on a night with nothing new (the 304 path of every pull, the escalation check) are built this way
    too, never with bound parameters: binding any Python value makes DuckDB's client import pandas, a large share
    of a no-change run that needs nothing from it (measured: bench/NOTES.md)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
