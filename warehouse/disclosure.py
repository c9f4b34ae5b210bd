"""Statistical disclosure control for the ``published`` schema: small counts suppressed, secondary suppression so
no suppressed cell can be recovered by subtraction, and no rate on a small numerator. The rules per view are data,
in ``transforms/published/disclosure.yml`` (read it for the conventions).

Beyond the rules within a row and a group of rows, ``linked`` relations state which published cells add up to which
across overlapping periods and across views (a rolling year is its four quarterly cohorts; a split's groups are the
cohort's row in another view). Every such relation is an equation between cells; a suppressed cell is recoverable
when the equations and the cells shown determine it (a linear-algebra test, not a search for one subtraction), and
cells are suppressed until none is (docs/methods.md#disclosure-control)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

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
    _partitions(rows, hidden, spec, threshold)
    for ref in spec.get("references", []):
        for members in _groups(rows, ref["by"]).values():
            anchors = [i for i in members if all(rows[i].get(k) == v for k, v in ref["row"].items())]
            if any(n in hidden[i] for i in anchors for n in ref["needs"]):
                for i in members:
                    hidden[i] |= set(ref["rates"])
    return hidden


def _partitions(rows: list[dict[str, Any]], hidden: list[set[str]], spec: dict, threshold: int) -> bool:
    """Apply ``partitions`` (in place): no group with exactly one suppressed cell in a column. True if it hid any."""
    changed, any_change = True, False
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
                        changed = any_change = True
    return any_change


def _groups(rows: list[dict[str, Any]], by: list[str]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(tuple(r[c] for c in by), []).append(i)
    return groups


Cell = tuple[str, int]  # (view, row index)


def _equations(rows: dict[str, list[dict[str, Any]]], view: str, rel: dict) -> list[dict[Cell, int]]:
    """The equations (cell -> coefficient, summing to 0) that relation ``rel`` of ``view`` states between rows."""
    eqs: list[dict[Cell, int]] = []
    mine = rows[view]
    if rel["kind"] == "rolling":
        # a rolling row = the sum of the quarter rows of the same group ending in its last four quarters
        quarters: dict[tuple, int] = {}
        for i, r in enumerate(mine):
            if r[rel["type_column"]] == rel["part"]:
                quarters[(*(r[c] for c in rel["by"]), r[rel["end_column"]])] = i
        for i, r in enumerate(mine):
            if r[rel["type_column"]] != rel["whole"]:
                continue
            end = r[rel["end_column"]]
            eq: dict[Cell, int] = {(view, i): 1}
            for k in range(rel["parts"]):
                q_end = _months_back(end, 3 * k)
                j = quarters.get((*(r[c] for c in rel["by"]), q_end))
                if j is not None:
                    eq[(view, j)] = -1
            eqs.append(eq)
    elif rel["kind"] == "total_in":
        # the rows of one group (by + split) add up to the row of ``view_total`` with the same ``by``
        totals = {tuple(r[c] for c in rel["by"]): i for i, r in enumerate(rows[rel["view"]])}
        groups = _groups(mine, rel["by"] + rel["split"])
        for key, members in groups.items():
            t = totals.get(key[: len(rel["by"])])
            if t is None:
                continue
            eq = {(view, i): 1 for i in members}
            eq[(rel["view"], t)] = -1
            eqs.append(eq)
    return eqs


def _months_back(d: Any, months: int) -> Any:  # noqa: ANN401
    """The last day of the month ``months`` before the month of ``d`` (itself a month's last day)."""
    y, m = d.year, d.month - months
    while m <= 0:
        y, m = y - 1, m + 12
    first_next = dt.date(y + (m == 12), m % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _determined(eqs: list[dict[Cell, int]], hidden: list[Cell]) -> list[Cell]:
    """The hidden cells the equations determine, given every other cell: those whose unit vector lies in the row
    space of the equations restricted to the hidden cells. A cell alone among the hidden in an equation is
    determined by it outright; only where there is none is the row space computed (a pivoted QR decomposition:
    publishing at a national hub's size, thousands of LAs each with systems of hundreds of cells, made a full SVD
    per round its slowest step)."""
    if not hidden:
        return []
    index = {c: k for k, c in enumerate(hidden)}
    rows = [eq for eq in eqs if any(c in index for c in eq)]
    alone = {cells[0] for eq in rows if len(cells := [c for c in eq if c in index]) == 1}
    if alone:
        return sorted(alone)
    if not rows:
        return []
    m = np.zeros((len(rows), len(hidden)))
    for r, eq in enumerate(rows):
        for c, coef in eq.items():
            if c in index:
                m[r, index[c]] = coef
    import scipy.linalg  # here: a publish that needs no QR (most) does not pay its import (0.16 s, in every publish)

    q, r, _ = scipy.linalg.qr(m.T, mode="economic", pivoting=True)  # columns of q: a basis of the row space
    diagonal = np.abs(np.diag(r))
    rank = int((diagonal > 1e-9 * max(m.shape) * (diagonal[0] if diagonal.size else 0)).sum())
    norms = (q[:, :rank] ** 2).sum(axis=1)
    return [c for c, k in index.items() if norms[k] > 1 - 1e-9]


def suppress_linked(
    rows: dict[str, list[dict[str, Any]]], hidden: dict[str, list[set[str]]], spec: dict, threshold: int
) -> None:
    """Suppress further cells (in place, in ``hidden``) until no suppressed cell can be worked out from the cells
    shown through the ``linked`` relations of the views in ``spec`` (across overlapping periods and views)."""
    relations = [(view, rel) for view, rules in spec.items() if view in rows for rel in rules.get("linked", [])]
    columns = sorted({c for _, rel in relations for c in rel["counts"]})
    periods = sorted({rel["end_column"] for _, rel in relations if "end_column" in rel})
    for col in columns:
        eqs = [eq for view, rel in relations if col in rel["counts"] for eq in _equations(rows, view, rel)]
        for component, comp_eqs in _components(eqs):
            eqs_of: dict[Cell, list[dict[Cell, int]]] = {}
            for eq in comp_eqs:
                for c in eq:
                    eqs_of.setdefault(c, []).append(eq)
            while True:
                shut = [c for c in component if col in hidden[c[0]][c[1]]]
                found = _determined(comp_eqs, shut)
                if not found:
                    break
                # For each determined cell, one more to suppress: a shown, non-zero cell in an equation with it,
                # of its own period first (the rolling year ending with a suppressed quarter, and its copies in other
                # views, rather than the earlier quarters, which other years would give away), then the smallest.
                # All at once, then the test again: one at a time costs a decomposition per cell.
                picks: set[Cell] = set()
                for target in sorted(found):
                    period = {rows[target[0]][target[1]].get(p) for p in periods} - {None}
                    options = []
                    for eq in eqs_of[target]:
                        for c in eq:
                            r = rows[c[0]][c[1]]
                            if col in hidden[c[0]][c[1]] or (r.get(col) or 0) <= 0:
                                continue
                            same = bool(period & {r.get(p) for p in periods})
                            options.append((not same, r[col], c))
                    if options and not any(o[2] in picks for o in options):
                        picks.add(min(options)[2])
                if not picks:  # cannot happen: a determined cell has a shown, non-zero neighbour
                    break
                for view, i in sorted(picks):
                    hidden[view][i] = suppress_row(rows[view][i], spec[view], threshold, hidden[view][i] | {col})


def _components(eqs: list[dict[Cell, int]]) -> list[tuple[set[Cell], list[dict[Cell, int]]]]:
    """The equations split into independent systems: each system's cells and its equations (found in one pass: at a
    national hub's size, thousands of LAs each with their own systems, a scan of every equation per system took
    longer than the night)."""
    parent: dict[Cell, Cell] = {}

    def find(c: Cell) -> Cell:
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for eq in eqs:
        cells = list(eq)
        for c in cells[1:]:
            parent[find(c)] = find(cells[0])
    cells: dict[Cell, set[Cell]] = {}
    for c in parent:
        cells.setdefault(find(c), set()).add(c)
    stated: dict[Cell, list[dict[Cell, int]]] = {}
    for eq in eqs:
        stated.setdefault(find(next(iter(eq))), []).append(eq)
    return [(members, stated.get(root, [])) for root, members in cells.items()]


def status_columns(rules: dict) -> list[str]:
    """The columns of a view that disclosure control can remove: each gets a ``<column>_status`` beside it."""
    cols = list(rules.get("counts", [])) + list(rules.get("rates", {}))
    for group in rules.get("sums", []):
        cols += [group["total"], *group["parts"]]
    for comp in rules.get("complements", []):
        cols += [comp["total"], comp["part"]]
    for ref in rules.get("references", []):
        cols += list(ref["rates"])
    return list(dict.fromkeys(cols))


def _by_la(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The kpi views with an ``la_code``: published for the partnership's own local authority only
    (``core.partnership``).

    What leaves the team is the partnership's own figures. A kpi view also holds rows for other LAs (children who
    live elsewhere); those stay in ``kpi``, for the team, and are their own LA's partnership's to publish (a hub pools
    what each partnership published). Controlling them too cost most of a publish where the rows span many LAs: at the
    bench's 1,404 LAs, minutes and over a gigabyte (bench/NOTES.md)."""
    views = con.execute(
        "select table_name from duckdb_columns() where database_name = current_database() and schema_name = 'kpi' "
        "and column_name = 'la_code'"
    ).fetchall()
    return {v for (v,) in views}


def publish_views(con: duckdb.DuckDBPyConnection, threshold: int) -> None:
    """Create ``published.<view>`` for every kpi view the spec names, in the current database: the partnership's own
    LA's rows (:func:`_by_la`), disclosure-controlled."""
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
    all_rows: dict[str, list[dict[str, Any]]] = {}
    all_hidden: dict[str, list[set[str]]] = {}
    columns_of: dict[str, list[str]] = {}
    by_la = _by_la(con)
    for view, rules in spec.items():
        own = "where la_code = (select la_code from core.partnership)" if view in by_la else ""
        # Rows are numbered so the suppression worked out in Python is applied in SQL, in one statement.
        con.execute(
            f"create or replace temp table _rows_{view} as select row_number() over () as _i, * from kpi.{view} {own}"
        )
        rel = con.sql(f"select * exclude (_i) from _rows_{view} order by _i")
        columns_of[view] = rel.columns
        all_rows[view] = [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
        all_hidden[view] = suppress_rows(all_rows[view], rules, threshold)
    # the linked relations and the partitions each add cells the other must see: repeat until neither does
    suppress_linked(all_rows, all_hidden, spec, threshold)
    while any(_partitions(all_rows[v], all_hidden[v], spec[v], threshold) for v in spec):
        suppress_linked(all_rows, all_hidden, spec, threshold)
    for view, rules in spec.items():
        hidden, columns = all_hidden[view], columns_of[view]
        con.execute(
            "create or replace temp table _hidden as select unnest(?::bigint[]) as _i, unnest(?::varchar[][]) as cells",
            [[i + 1 for i, h in enumerate(hidden) if h], [sorted(h) for h in hidden if h]],
        )
        statused = set(status_columns(rules))
        masked = []
        for c in columns:
            masked.append(f'case when list_contains(h.cells, \'{c}\') then null else r."{c}" end as "{c}"')
            if c in statused:
                masked.append(
                    f"case when list_contains(h.cells, '{c}') then 'suppressed' "
                    f"when r.\"{c}\" is null then 'not available' else 'shown' end as \"{c}_status\""
                )
        con.execute(
            f"""create or replace table published.{view} as
                select {", ".join(masked)}, coalesce(h.cells, []::varchar[]) as suppressed_cells
                from _rows_{view} as r left join _hidden as h using (_i) order by r._i"""
        )
        con.execute(f"drop table _rows_{view}")
        comment = con.execute(
            "select comment from duckdb_views() where database_name = current_database() and schema_name = 'kpi' "
            "and view_name = ?",
            [view],
        ).fetchone()[0]
        text = f"{comment} Disclosure-controlled for use outside the team (the partnership's own LA's rows): counts 1-{threshold - 1} and secondary cells suppressed (NULL, said in the <column>_status beside each and listed in suppressed_cells), none recoverable from other published cells across rows, overlapping periods or views; no rate on a numerator under {threshold}."
        con.execute(f"comment on table published.{view} is {sql_literal(text)}")
        for column, col_comment in con.execute(
            "select column_name, comment from duckdb_columns() where database_name = current_database() "
            "and schema_name = 'kpi' and table_name = ?",
            [view],
        ).fetchall():
            if col_comment:
                con.execute(f'comment on column published.{view}."{column}" is {sql_literal(col_comment)}')
            if column in statused:
                con.execute(
                    f'comment on column published.{view}."{column}_status" is '
                    f"'shown; suppressed (disclosure control removed {column}); or not available (no figure: "
                    f"nothing to count it from, e.g. no population or no denominator).'"
                )
        con.execute(
            f"comment on column published.{view}.suppressed_cells is 'Columns suppressed in this row (disclosure control).'"
        )
    # published.measures: the same query as kpi.measures over the published views, so it carries their suppression
    con.execute(MEASURES.read_text().replace("kpi.", "published."))
