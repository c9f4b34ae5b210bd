"""Storage behind one package: only ``warehouse/`` writes SQL against the loader's own tables (the manifest, the
audit trail, quarantine, history, staging), so a table can change in one place. Every other stage calls a small
function of ``warehouse`` for what it needs. This reads every module outside ``warehouse/`` and fails naming the
file and line of any statement that reaches into those tables."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = {"warehouse", "tests", "bench", ".venv", "data"}

# The loader's tables: those its migrations create, and every table of the schemas it fills as it loads.
MADE_AS_IT_LOADS = ("history", "staging", "scratch")
CREATED = re.compile(r"create table if not exists (\w+)\.(\w+)", re.IGNORECASE)
REFERENCE = re.compile(r"\b(?:from|into|update|join|table)\s+(\w+)\.(\w+)", re.IGNORECASE)


def loader_tables() -> set[tuple[str, str]]:
    found = set()
    for migration in (ROOT / "warehouse" / "migrations").glob("*.sql"):
        found |= {(s.lower(), t.lower()) for s, t in CREATED.findall(migration.read_text())}
    return found


def reaches_in(text: str, tables: set[tuple[str, str]]) -> list[tuple[int, str]]:
    """(line, schema.table) of each statement in ``text`` against one of the loader's tables."""
    hits = []
    for n, line in enumerate(text.splitlines(), start=1):
        for schema, table in REFERENCE.findall(line):
            if schema.lower() in MADE_AS_IT_LOADS or (schema.lower(), table.lower()) in tables:
                hits.append((n, f"{schema}.{table}"))
    return hits


def test_the_migrations_are_read() -> None:
    assert {("audit", "loads"), ("audit", "alerts"), ("landing", "extracts"), ("quarantine", "row_problems")} <= (
        loader_tables()
    )


def test_only_the_warehouse_touches_the_loaders_tables() -> None:
    tables = loader_tables()
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in OUTSIDE:
            continue
        for line, table in reaches_in(path.read_text(), tables):
            wrong.append(f"{relative}:{line} uses {table}: call a function of warehouse/ instead")
    assert not wrong, "SQL against the loader's tables outside warehouse/:\n" + "\n".join(wrong)


def test_the_check_catches_a_statement_and_spares_the_published_views() -> None:
    tables = loader_tables()
    code = 'con.execute("select x from audit.alerts")\ncon.execute("insert into history.police_outcomes ...")\n'
    assert reaches_in(code, tables) == [(1, "audit.alerts"), (2, "history.police_outcomes")]
    # a published view, not a loader's table (a hint to the analyst, say)
    assert reaches_in('hint = "yos sql \\"from audit.data_quality\\""', tables) == []
