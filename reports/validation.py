"""A self-contained HTML validation report for one load of one extract: what arrived, every rule of its contract
with the GX expectation that checked it and how many rows failed, and what was held back. No scripts, no styles or
fonts from a network: it opens offline (GX's own Data Docs pull theirs from CDNs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from warehouse import audit, problems

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())


def render(con: duckdb.DuckDBPyConnection, load_id: int, partnership: str) -> str:
    extract_problems = [
        dict(zip(["rule_id", "severity", "message", "fix"], r, strict=True))
        for r in audit.extract_problems(con, load_id)
    ]
    return _env.get_template("validation.html.j2").render(
        x=audit.load_record(con, load_id), rules=audit.validation_results(con, load_id),
        extract_problems=extract_problems, malformed=problems.malformed_lines(con, load_id), partnership=partnership,
        generated=dt.datetime.now(dt.UTC).strftime("%d %B %Y %H:%M UTC"),
    )  # fmt: skip


def write(con: duckdb.DuckDBPyConnection, load_id: int, partnership: str, folder: Path) -> Path:
    extract_id = audit.extract_of_load(con, load_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{extract_id}--load{load_id}.html"
    path.write_text(render(con, load_id, partnership))
    return path
