"""The GX-on-DuckDB patches: they must keep working, and GX must agree with each rule's own SQL."""

from __future__ import annotations

import datetime as dt

import duckdb
import great_expectations.expectations as gxe
import pytest

from expectations.contract import get_contract
from expectations.suite import expectation_for, run_suite


def test_patched_private_symbols_still_exist() -> None:
    # If a GX upgrade moves these, the patch silently stops applying: fail loudly here instead.
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see
    from great_expectations.expectations.metrics import util as mutil

    assert hasattr(see, "_PERSISTED_CONNECTION_DIALECTS")
    assert hasattr(mutil, "get_dialect_regex_expression")


def test_gx_counts_every_failing_row_beyond_its_own_limits() -> None:
    con = duckdb.connect()
    con.execute(
        """create schema staging;
           create table staging.t as select range + 2 as _line,
             case when range % 10 = 0 then 'X' else 'M' end as "sex__raw",
             case when range % 7 = 0 then 'bad id' else 'DP' || range end as "force_person_id__raw"
           from range(5000)"""
    )
    c = get_contract("police_outcomes")
    rules = [
        r
        for r in c.rules(dt.date(2025, 1, 1))
        if r.id in ("police_outcomes.sex.codes", "police_outcomes.force_person_id.format")
    ]
    outcomes = {o.rule_id: o for o in run_suite(con, [("staging.t", rules)], "t")}
    # 500 and 715 failing rows: far past GX's 20-id and 200-value truncation
    assert outcomes["police_outcomes.sex.codes"].failing_rows == 500
    assert outcomes["police_outcomes.force_person_id.format"].failing_rows == 715
    assert not outcomes["police_outcomes.sex.codes"].success
    for rule in rules:
        mine = con.execute(f"select count(*) from staging.t where {rule.fails_when}").fetchone()[0]
        assert mine == outcomes[rule.id].failing_rows


def test_native_expectations_are_used_where_gx_has_them() -> None:
    c = get_contract("police_outcomes")
    kinds = {r.kind: type(expectation_for(r)).__name__ for r in c.rules(dt.date(2025, 1, 1))}
    assert kinds["required"] == "ExpectColumnValuesToNotBeNull"
    assert kinds["codes"] == "ExpectColumnValuesToBeInSet"
    assert kinds["format"] == "ExpectColumnValuesToMatchRegex"
    assert kinds["range"] == "ExpectColumnValuesToBeBetween"
    assert kinds["cross"] == kinds["unique"] == "ExpectNoRowsBreakingTheRule"  # GX's, asking only for the count
    cross = next(r for r in c.rules(dt.date(2025, 1, 1)) if r.kind == "cross")
    assert isinstance(expectation_for(cross), gxe.UnexpectedRowsExpectation)


def test_a_rule_gx_checks_by_query_is_counted_in_one_query_not_fetched_too() -> None:
    """GX's own query expectation runs the query twice, counted and fetched, and drops the fetched rows under the
    BASIC results asked for. Ours only counts: the count still equals the rule's SQL, failing rows and all."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    con = duckdb.connect()
    con.execute(
        """create schema staging;
           create table staging.t as select range + 2 as _line, 'A' || (range % 900) as "outcome_id__raw",
             date '2024-01-01' + (range % 40)::int as offence_date, date '2024-01-20' as outcome_date
           from range(1000)"""
    )
    rules = [r for r in get_contract("police_outcomes").rules(dt.date(2025, 1, 1)) if r.kind in ("unique", "cross")]
    rules = [r for r in rules if r.name in ("key.unique", "offence_before_outcome")]
    sent: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        sent.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        outcomes = {o.rule_id: o for o in run_suite(con, [("staging.t", rules)], "t")}
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    for rule in rules:
        clause = "QUALIFY" if rule.kind == "unique" else "WHERE"
        failing = f"select _line from staging.t {clause} {rule.fails_when}"
        mine = con.execute(f"select count(*) from ({failing})").fetchone()[0]
        assert (outcomes[rule.id].failing_rows, outcomes[rule.id].success) == (mine, False)
    assert (outcomes["police_outcomes.key.unique"].failing_rows, outcomes["police_outcomes.offence_before_outcome"]
            .failing_rows) == (100, 500)  # fmt: skip
    queries = [q for q in sent if "FROM staging.t" in q]  # the rules' queries, GX's batch wrapped or not
    assert len([q for q in queries if q.startswith("SELECT _line")]) == 0, queries
    assert len([q for q in queries if "unexpected_row_count" in q]) == 2, queries


def test_gx_leaves_no_transaction_open_on_the_loader_connection() -> None:
    con = duckdb.connect()
    con.execute("""create schema staging; create table staging.t as select 2 as _line, 'M' as "sex__raw" """)
    rules = [r for r in get_contract("police_outcomes").rules(dt.date(2025, 1, 1)) if r.id.endswith("sex.codes")]
    run_suite(con, [("staging.t", rules)], "t")
    con.execute("checkpoint")  # fails if a GX cursor still holds a transaction
    con.execute("create table staging.u as select 1")


def test_gx_validates_a_table_in_the_loaders_in_memory_scratch_database() -> None:
    # Staged extracts live in an attached in-memory database; GX must find the table (upper-case columns included,
    # as SSDA903 names them) and count exactly what the rule's SQL counts.
    con = duckdb.connect()
    con.execute("attach ':memory:' as scratch")
    con.execute(
        """create table scratch.main.t as select range + 2 as _line,
             case when range % 4 = 0 then '9' else '1' end as "SEX__raw" from range(400)"""
    )
    rule = next(r for r in get_contract("cic_header").rules(dt.date(2024, 1, 1), 2023) if r.id == "903-101")
    (outcome,) = run_suite(con, [("scratch.main.t", [rule])], "t")
    assert outcome.failing_rows == 100
    assert con.execute(f"select count(*) from scratch.main.t where {rule.fails_when}").fetchone()[0] == 100


def test_a_rule_gx_cannot_evaluate_is_an_error_not_zero_failures() -> None:
    con = duckdb.connect()
    con.execute("""create schema staging; create table staging.t as select 2 as _line, 'M' as "other__raw" """)
    rules = [r for r in get_contract("police_outcomes").rules(dt.date(2025, 1, 1)) if r.id.endswith("sex.codes")]
    with pytest.raises(RuntimeError, match="GX could not evaluate police_outcomes.sex.codes"):
        run_suite(con, [("staging.t", rules)], "t")
