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
from expectations.docs import render as render_contract
from expectations.messages import ECHO_CELL, cut, readable
from expectations.ssda903 import year_label
from partnership.config import Config, Partner
from warehouse import audit, problems

TEMPLATES = Path(__file__).parent / "templates"
# HTML templates are escaped; the plain-text one is not (an apostrophe in a fix is an apostrophe, not &#39;)
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
    trim_blocks=False,
)


@dataclass
class Alert:
    partner: Partner
    run_id: str
    subject: str
    text: str
    html: str
    attachments: dict[str, bytes] = field(default_factory=dict)
    problem_count: int = 0


def contract_name(feed: str) -> str:
    """The name of a feed's contract as sent with what a partner is told (the partner has no repository)."""
    return f"{feed}_contract.md"


def contract_document(feed: str) -> bytes:
    """The partner-facing contract of ``feed`` (as ``docs/contracts/<feed>.md``, generated from the same source)."""
    return render_contract(get_contract(feed)).encode("utf-8")


def _status(con: duckdb.DuckDBPyConnection, partner: str, feed: str, rule_id: str, column: str, load_id: int) -> str:
    """new, or still failing since when, from the problem lifecycle (quarantine.problems)."""
    row = problems.seen_in(con, partner, feed, rule_id, column, load_id)
    if row is None or row[0] == load_id:
        return "new"
    return f"still failing since {row[1].strftime('%d %B %Y')} ({row[2]} extracts)"


def _lines_text(lines: list[int], total: int) -> str:
    shown = ", ".join(str(n) for n in lines[:12])
    return shown + (f" and {total - 12} more" if total > 12 else "")


# Problems listed per extract in an alert's attachment. Mail servers refuse large messages, and a national-size
# extract with a systematic fault once gave an alert too large to deliver (measured: bench/NOTES.md): beyond this
# the alert says how many more there are, and fixing the first ones usually fixes the rest.
ATTACHED_PROBLEMS = 10_000


# A partner's row is parsed back into its columns up to this size; the csv module's default (128 KB a field) once
# crashed composing an alert after the load had published, so the partner was never told.
ROW_LIMIT = 64 * 1024 * 1024


def _fields(text: str) -> list[str]:
    """The columns of one line as the partner sent it; none when it cannot be parsed as one CSV record."""
    if not text or len(text) > ROW_LIMIT:
        return []
    previous = csv.field_size_limit(ROW_LIMIT)
    try:
        return next(csv.reader([text]), [])
    except csv.Error:
        return []
    finally:
        csv.field_size_limit(previous)


def _failing_rows_csv(con: duckdb.DuckDBPyConnection, load_id: int, path: Path, columns: list[str]) -> bytes:
    listed = problems.row_problems(con, load_id, ATTACHED_PROBLEMS)
    wanted = {p[0] for p in listed}
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
    for line, rule, severity, column, message, fix in listed:
        text = raw.get(line, "")
        values = _fields(text)
        fields = values if len(values) == len(columns) else [""] * len(columns)
        w.writerow(
            [
                line,
                rule,
                severity,
                column or "",
                readable(message),
                readable(fix),
                *(cut(v, ECHO_CELL) for v in fields),
                cut(text, ECHO_CELL) if len(values) != len(columns) else "",
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
    extracts, held_back, found, attachments, truncated = [], [], [], {}, []
    for load_id, feed, extract_id, status, received, loaded, quarantined, _warned, stored, year in audit.partner_loads(
        con, partner.id, load_ids
    ):
        contract = get_contract(feed)
        checked_against = f"; checked against the {year_label(year)} SSDA903 rules" if year is not None else ""
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
                "outcome": outcome + checked_against,
                "summary": f"{received} rows received, {loaded} loaded, {(received or 0) - (loaded or 0)} not loaded"
                + checked_against,
            }
        )
        for rule_id, severity, message, fix in audit.extract_problems(con, load_id):
            status = _status(con, partner.id, feed, rule_id, "", load_id)
            message, fix = readable(message), readable(fix)
            spec = f"{contract_name(feed)} (at the end of this message), rule {rule_id}"
            if severity == "fatal":
                held_back.append({"feed": feed, "extract_id": extract_id, "rule_id": rule_id, "message": message,
                                  "fix": fix, "status": status, "spec": spec})  # fmt: skip
            else:
                found.append({"feed": feed, "rule_id": rule_id, "severity": severity, "column": None,
                                 "status": status, "message": message, "fix": fix, "rows": received or 0,
                                 "lines_text": "the whole extract", "spec": spec})  # fmt: skip
        rows = problems.by_rule(con, load_id)
        for rule_id, severity, column, message, fix, count, lines in rows:
            found.append(
                {
                    "feed": feed,
                    "rule_id": rule_id,
                    "severity": severity,
                    "column": readable(column),
                    "status": _status(con, partner.id, feed, rule_id, column or "", load_id),
                    "message": readable(message),
                    "fix": readable(fix),
                    "rows": count,
                    "lines_text": _lines_text(lines, count),
                    "spec": f"{contract_name(feed)} (at the end of this message), rule {rule_id}",
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
        {"feed": f, "rule_id": r, "column": readable(c), "since": o.strftime("%d %B %Y")}
        for f, r, c, o in problems.fixed_by(con, partner.id, load_ids)
    ]
    if not held_back and not found and not fixed:
        return None
    # The contract each problem cites goes with the message, as the partner-facing document (docs/contracts/), so
    # the partner reads the rule it broke by its id without a repository (appended, not attached: one attachment,
    # the failing rows, is what partners' import scripts expect).
    contracts = [
        {"name": contract_name(feed), "text": contract_document(feed).decode("utf-8")}
        for feed in sorted({p["feed"] for p in held_back + found})
    ]
    context = {
        "partnership": cfg.name,
        "partner_name": partner.name,
        "run_id": run_id,
        "generated": dt.datetime.now(dt.UTC).strftime("%d %B %Y %H:%M UTC"),
        "extracts": extracts,
        "held_back": held_back,
        "problems": found,
        "fixed": fixed,
        "attachments": list(attachments),
        "contracts": contracts,
        "truncated": truncated,
        "lead_name": cfg.yos_data_lead.name,
        "lead_email": cfg.yos_data_lead.email,
    }
    count = len(held_back) + len(found)
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
