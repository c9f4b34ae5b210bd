"""Composing a partner's data-quality alert from what one run found: which extracts arrived, what was held back,
each broken rule in plain words with how to fix it, and a CSV per feed of the failing rows exactly as the partner
sent them (re-read from the landed file, so only that partner's own data ever goes back to them)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from expectations.contract import get_contract
from partnership.config import Config, Partner

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]), trim_blocks=False)


@dataclass
class Alert:
    partner: Partner
    run_id: str
    subject: str
    text: str
    html: str
    attachments: dict[str, bytes] = field(default_factory=dict)
    problem_count: int = 0


def _status(con: duckdb.DuckDBPyConnection, partner: str, feed: str, rule_id: str, column: str, load_id: int) -> str:
    """new, or still failing since when, from the problem lifecycle (quarantine.problems)."""
    row = con.execute(
        """select opened_load, opened_at, extracts_seen from quarantine.problems
           where partner = ? and feed = ? and rule_id = ? and column_name = ? and last_seen_load = ?
           order by opened_load desc limit 1""",
        [partner, feed, rule_id, column, load_id],
    ).fetchone()
    if row is None or row[0] == load_id:
        return "new"
    return f"still failing since {row[1].strftime('%d %B %Y')} ({row[2]} extracts)"


def _lines_text(lines: list[int], total: int) -> str:
    shown = ", ".join(str(n) for n in lines[:12])
    return shown + (f" and {total - 12} more" if total > 12 else "")


# Problems listed per extract in an alert's attachment. Mail servers refuse large messages (a national-size extract
# with a systematic fault gave a 46 MB alert, refused with SMTP 552): beyond this the alert says how many more there
# are, and fixing the first ones usually fixes the rest.
ATTACHED_PROBLEMS = 10_000


def _failing_rows_csv(con: duckdb.DuckDBPyConnection, load_id: int, path: Path, columns: list[str]) -> bytes:
    problems = con.execute(
        "select line, rule_id, severity, column_name, message, fix from quarantine.row_problems "
        "where load_id = ? order by line, rule_id limit ?",
        [load_id, ATTACHED_PROBLEMS],
    ).fetchall()
    wanted = {p[0] for p in problems}
    last = max((n for n in wanted if n is not None), default=0)
    raw: dict[int, str] = {}
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):
            if n > last:
                break
            if n in wanted:
                raw[n] = line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["line", "rule", "severity", "column", "problem", "how_to_fix", *columns, "line_as_sent"])
    for line, rule, severity, column, message, fix in problems:
        text = raw.get(line, "")
        values = next(csv.reader([text])) if text else []
        fields = values if len(values) == len(columns) else [""] * len(columns)
        w.writerow(
            [
                line,
                rule,
                severity,
                column or "",
                message,
                fix,
                *fields,
                text if len(values) != len(columns) else "",
            ]
        )
    return out.getvalue().encode("utf-8")


def compose(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    data_dir: Path,
    partner: Partner,
    run_id: str,
    load_ids: list[int],
) -> Alert | None:
    """The alert for ``partner`` about the loads ``load_ids`` of this run, or None if they found nothing."""
    if not load_ids:
        return None
    marks = ", ".join("?" * len(load_ids))
    loads = con.execute(
        f"""select l.load_id, l.feed, l.extract_id, l.status, l.rows_received, l.rows_loaded, l.rows_quarantined,
                   l.rows_with_warnings, e.stored_path
            from audit.loads l join landing.extracts e using (extract_id)
            where l.load_id in ({marks}) and l.partner = ? order by l.feed""",
        [*load_ids, partner.id],
    ).fetchall()
    extracts, held_back, problems, attachments, truncated = [], [], [], {}, []
    for load_id, feed, extract_id, status, received, loaded, quarantined, _warned, stored in loads:
        contract = get_contract(feed)
        outcome = {
            "loaded": "loaded" if not quarantined else "loaded, some rows not loaded",
            "held_back": "held back whole",
        }.get(status, status)
        extracts.append(
            {
                "feed": feed,
                "extract_id": extract_id,
                "received": received or 0,
                "loaded": loaded or 0,
                "quarantined": (received or 0) - (loaded or 0),
                "outcome": outcome,
                "summary": f"{received} rows received, {loaded} loaded, {(received or 0) - (loaded or 0)} not loaded",
            }
        )
        for rule_id, severity, message, fix in con.execute(
            "select rule_id, severity, message, fix from audit.extract_problems where load_id = ?", [load_id]
        ).fetchall():
            status = _status(con, partner.id, feed, rule_id, "", load_id)
            if severity == "fatal":
                held_back.append({"feed": feed, "extract_id": extract_id, "rule_id": rule_id, "message": message,
                                  "fix": fix, "status": status})  # fmt: skip
            else:
                problems.append({"feed": feed, "rule_id": rule_id, "severity": severity, "column": None,
                                 "status": status, "message": message, "fix": fix, "rows": received or 0,
                                 "lines_text": "the whole extract", "spec": f"docs/contracts/{feed}.md"})  # fmt: skip
        rows = con.execute(
            """select rule_id, severity, any_value(column_name), any_value(message), any_value(fix),
                      count(*), list(line order by line)[1:12]
               from quarantine.row_problems where load_id = ? group by rule_id, severity
               order by severity, count(*) desc""",
            [load_id],
        ).fetchall()
        for rule_id, severity, column, message, fix, count, lines in rows:
            problems.append(
                {
                    "feed": feed,
                    "rule_id": rule_id,
                    "severity": severity,
                    "column": column,
                    "status": _status(con, partner.id, feed, rule_id, column or "", load_id),
                    "message": message,
                    "fix": fix,
                    "rows": count,
                    "lines_text": _lines_text(lines, count),
                    "spec": f"docs/contracts/{feed}.md, from {contract.spec}",
                }
            )
        if rows:
            attachments[f"{feed}_failing_rows.csv"] = _failing_rows_csv(
                con, load_id, data_dir / stored, contract.column_names
            )
            listed = sum(r[5] for r in rows)
            if listed > ATTACHED_PROBLEMS:
                truncated.append({"name": f"{feed}_failing_rows.csv", "listed": ATTACHED_PROBLEMS, "total": listed})
    fixed = [
        {"feed": f, "rule_id": r, "column": c, "since": o.strftime("%d %B %Y")}
        for f, r, c, o in con.execute(
            f"""select feed, rule_id, column_name, opened_at from quarantine.problems
                where partner = ? and closed_load in ({marks}) order by feed, rule_id""",
            [partner.id, *load_ids],
        ).fetchall()
    ]
    if not held_back and not problems and not fixed:
        return None
    context = {
        "partnership": cfg.name,
        "partner_name": partner.name,
        "run_id": run_id,
        "generated": dt.datetime.now(dt.UTC).strftime("%d %B %Y %H:%M UTC"),
        "extracts": extracts,
        "held_back": held_back,
        "problems": problems,
        "fixed": fixed,
        "attachments": list(attachments),
        "truncated": truncated,
        "lead_name": cfg.yos_data_lead.name,
        "lead_email": cfg.yos_data_lead.email,
    }
    count = len(held_back) + len(problems)
    subject = f"[{cfg.name}] Data quality: {count} problem{'s' if count != 1 else ''} in your extracts" + (
        f", {len(fixed)} fixed" if fixed else ""
    )
    return Alert(
        partner,
        run_id,
        subject,
        _env.get_template("alert.txt.j2").render(**context),
        _env.get_template("alert.html.j2").render(**context),
        attachments,
        count,
    )
