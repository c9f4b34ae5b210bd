"""A self-contained HTML validation report for one load of one extract: what arrived, every rule of its contract
with the GX expectation that checked it and how many rows failed, and what was held back. No scripts, no styles or
fonts from a network: it opens offline (GX's own Data Docs pull theirs from CDNs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())


def render(con: duckdb.DuckDBPyConnection, load_id: int, partnership: str) -> str:
    cols = ["load_id", "extract_id", "feed", "partner", "status", "rows_received", "rows_loaded", "rows_quarantined",
            "rows_with_warnings", "contract_version", "received_at", "source", "bytes", "sha256", "period_start",
            "period_end"]  # fmt: skip
    row = con.execute(
        """select l.load_id, l.extract_id, l.feed, l.partner, l.status, l.rows_received, l.rows_loaded,
                  l.rows_quarantined, l.rows_with_warnings, l.contract_version, e.received_at, e.source, e.bytes,
                  e.sha256, e.declared_period_start, e.declared_period_end
           from audit.loads l join landing.extracts e using (extract_id) where l.load_id = ?""",
        [load_id],
    ).fetchone()
    x = dict(zip(cols, row, strict=True))
    rules = [
        dict(zip(["rule_id", "severity", "expectation", "success", "failing_rows", "lines", "message", "fix"], r,
                 strict=True))
        for r in con.execute(
            """select v.rule_id, v.severity, v.gx_expectation, v.gx_success, v.failing_rows,
                      array_to_string(list(q.line order by q.line)[1:8], ', '), any_value(q.message), any_value(q.fix)
               from audit.validation_results v
               left join quarantine.row_problems q on q.load_id = v.load_id and q.rule_id = v.rule_id
               where v.load_id = ? group by all order by v.gx_success, v.rule_id""",
            [load_id],
        ).fetchall()
    ]  # fmt: skip
    extract_problems = [
        dict(zip(["rule_id", "severity", "message", "fix"], r, strict=True))
        for r in con.execute(
            "select rule_id, severity, message, fix from audit.extract_problems where load_id = ?", [load_id]
        ).fetchall()
    ]
    malformed = con.execute(
        "select count(*) from quarantine.row_problems where load_id = ? and rule_id = 'line.malformed'", [load_id]
    ).fetchone()[0]
    return _env.get_template("validation.html.j2").render(
        x=x, rules=rules, extract_problems=extract_problems, malformed=malformed, partnership=partnership,
        generated=dt.datetime.now(dt.UTC).strftime("%d %B %Y %H:%M UTC"),
    )  # fmt: skip


def write(con: duckdb.DuckDBPyConnection, load_id: int, partnership: str, folder: Path) -> Path:
    extract_id = con.execute("select extract_id from audit.loads where load_id = ?", [load_id]).fetchone()[0]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{extract_id}--load{load_id}.html"
    path.write_text(render(con, load_id, partnership))
    return path
