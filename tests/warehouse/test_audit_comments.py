"""Every audit column says what it means (issue 29, item 15): in the analysts' published file, and in the loader's
own tables the published copies take their comments from."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import load_rows
from warehouse.db import connect_analyst


def test_every_column_of_the_published_audit_schema_has_a_comment(pipeline, tmp_path: Path) -> None:
    load_rows(pipeline, tmp_path, "police_outcomes", [{"outcome_id": "A"}, {"outcome_id": "B", "sex": "X"}])
    pipeline.publish()
    con = connect_analyst(pipeline.paths.published_db)
    try:
        objects = con.execute(
            "select object_name, kind from catalog where schema_name = 'audit' and kind in ('table', 'view') order by 1"
        ).fetchall()
        columns = con.execute(
            "select object_name || '.' || column_name, comment from catalog "
            "where schema_name = 'audit' and kind = 'column'"
        ).fetchall()
    finally:
        con.close()
    names = {name for name, _ in objects}
    assert {"loads", "extracts", "data_quality", "extract_problems", "problems", "reminders"} <= names
    assert "partner_scorecard" in names
    assert len(columns) >= 69
    uncommented = sorted(name for name, comment in columns if not (comment or "").strip())
    assert uncommented == []


def test_every_column_of_the_loaders_own_tables_has_a_comment(pipeline) -> None:
    """What the published copies are made from; a migration that adds a column must say what it means."""
    uncommented = pipeline.con.execute(
        "select schema_name || '.' || table_name || '.' || column_name from duckdb_columns() "
        "where database_name = current_database() and schema_name in ('audit', 'landing', 'quarantine') "
        "and coalesce(comment, '') = '' order by 1"
    ).fetchall()
    assert uncommented == []
