"""Statistical disclosure control for the ``published`` schema: small counts suppressed, secondary suppression so
no suppressed cell can be recovered by subtraction, and no rate on a small numerator. The rules per view are data,
in ``transforms/published/disclosure.yml`` (read it for the conventions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from expectations.contract import load_yaml
from expectations.sql import sql_literal

TRANSFORMS = Path(__file__).resolve().parents[1] / "transforms"
SPEC = TRANSFORMS / "published" / "disclosure.yml"
MEASURES = TRANSFORMS / "kpi" / "measures.sql"


def suppress_row(row: dict[str, Any], spec: dict, threshold: int, hidden: set[str] | None = None) -> set[str]:
    """The columns of ``row`` to suppress under ``spec`` with ``threshold``, starting from ``hidden`` (cells already
    suppressed by rules across rows)."""

    def small(col: str) -> bool:
        v = row.get(col)
        return v is not None and 0 < v < threshold

    hidden = set(hidden or ()) | {c for c in spec.get("counts", []) if small(c)}
    for comp in spec.get("complements", []):
        total, part = row.get(comp["total"]), row.get(comp["part"])
        if comp["total"] not in hidden and comp["part"] not in hidden and total is not None and part is not None:
            if 0 < total - part < threshold:
                hidden.add(comp["part"])
    changed = True
    while changed:  # sums overlap (a total is another sum's part), so repeat until nothing more is hidden
        changed = False
        for group in spec.get("sums", []):
            parts = group["parts"]
            if group["total"] in hidden or sum(p in hidden for p in parts) != 1:
                continue
            shown = [p for p in parts if p not in hidden]
            target = min(shown, key=lambda p: row.get(p) or 0) if shown else group["total"]
            hidden.add(target)
            changed = True
    for rate, (numerator, *inputs) in spec.get("rates", {}).items():
        value = row.get(numerator)
        if numerator in hidden or any(i in hidden for i in inputs) or value is None or value < threshold:
            hidden.add(rate)
    return hidden


def suppress_rows(rows: list[dict[str, Any]], spec: dict, threshold: int) -> list[set[str]]:
    """The columns to suppress in each of ``rows`` (one view), with the rules across rows: ``partitions`` (no
    group of rows adding up to a published total has exactly one suppressed cell in a column) and ``references``
    (a rate computed against another row is hidden wherever that row's inputs are)."""
    hidden = [suppress_row(r, spec, threshold) for r in rows]
    changed = True
    while changed:
        changed = False
        for part in spec.get("partitions", []):
            for members in _groups(rows, part["by"]).values():
                for col in part["counts"]:
                    if sum(col in hidden[i] for i in members) != 1:
                        continue
                    shown = [i for i in members if col not in hidden[i] and (rows[i].get(col) or 0) > 0]
                    if shown:
                        i = min(shown, key=lambda i: rows[i][col])
                        hidden[i] = suppress_row(rows[i], spec, threshold, hidden[i] | {col})
                        changed = True
    for ref in spec.get("references", []):
        for members in _groups(rows, ref["by"]).values():
            anchors = [i for i in members if all(rows[i].get(k) == v for k, v in ref["row"].items())]
            if any(n in hidden[i] for i in anchors for n in ref["needs"]):
                for i in members:
                    hidden[i] |= set(ref["rates"])
    return hidden


def _groups(rows: list[dict[str, Any]], by: list[str]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(tuple(r[c] for c in by), []).append(i)
    return groups


def publish_views(con: duckdb.DuckDBPyConnection, threshold: int) -> None:
    """Create ``published.<view>`` for every kpi view the spec names, in the current database."""
    spec = load_yaml(SPEC.read_text())
    views = {
        r[0]
        for r in con.execute(
            "select view_name from duckdb_views() where database_name = current_database() and schema_name = 'kpi'"
        ).fetchall()
    }
    unlisted = views - set(spec) - {"measures"}
    if unlisted:
        raise RuntimeError(f"{SPEC.name} has no disclosure rules for kpi.{', kpi.'.join(sorted(unlisted))}: add them")
    con.execute("create schema if not exists published")
    for view, rules in spec.items():
        # Rows are numbered so the suppression worked out in Python is applied in SQL, in one statement.
        con.execute(f"create or replace temp table _rows as select row_number() over () as _i, * from kpi.{view}")
        rel = con.sql("select * exclude (_i) from _rows order by _i")
        columns = rel.columns
        rows = [dict(zip(columns, r, strict=True)) for r in rel.fetchall()]
        hidden = suppress_rows(rows, rules, threshold)
        con.execute(
            "create or replace temp table _hidden as select unnest(?::bigint[]) as _i, unnest(?::varchar[][]) as cells",
            [[i + 1 for i, h in enumerate(hidden) if h], [sorted(h) for h in hidden if h]],
        )
        masked = ", ".join(
            f'case when list_contains(h.cells, \'{c}\') then null else r."{c}" end as "{c}"' for c in columns
        )
        con.execute(
            f"""create or replace table published.{view} as
                select {masked}, coalesce(h.cells, []::varchar[]) as suppressed_cells
                from _rows as r left join _hidden as h using (_i) order by r._i"""
        )
        comment = con.execute(
            "select comment from duckdb_views() where database_name = current_database() and schema_name = 'kpi' "
            "and view_name = ?",
            [view],
        ).fetchone()[0]
        text = f"{comment} Disclosure-controlled for use outside the team: counts 1-{threshold - 1} and secondary cells suppressed (NULL, listed in suppressed_cells); no rate on a numerator under {threshold}."
        con.execute(f"comment on table published.{view} is {sql_literal(text)}")
        for column, col_comment in con.execute(
            "select column_name, comment from duckdb_columns() where database_name = current_database() "
            "and schema_name = 'kpi' and table_name = ?",
            [view],
        ).fetchall():
            if col_comment:
                con.execute(f'comment on column published.{view}."{column}" is {sql_literal(col_comment)}')
        con.execute(
            f"comment on column published.{view}.suppressed_cells is 'Columns suppressed in this row (disclosure control).'"
        )
    # published.measures: the same query as kpi.measures over the published views, so it carries their suppression
    con.execute(MEASURES.read_text().replace("kpi.", "published."))
