"""Delivering alerts: by email (SMTP; STARTTLS and login configurable) and by webhook (JSON over httpx, with a
``text`` field that Teams and Slack incoming webhooks display). Each delivery is tried a few times, recorded in
``audit.alerts`` and kept under ``<data>/outbox/<run>/`` as sent; one that still fails is resent by the next run
(:func:`resend_failed`). Nothing is lost silently. Webhook URLs are secrets: they are never logged or recorded."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

import duckdb
import httpx

from partnership.config import Config, ConfigError, Contact, secret_ref
from reports.alert import Alert


def to_email(cfg: Config, alert: Alert, recipient: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = cfg.alert_from
    msg["To"] = recipient
    msg["Subject"] = alert.subject
    msg.set_content(alert.text)
    msg.add_alternative(alert.html, subtype="html")
    for name, data in alert.attachments.items():
        msg.add_attachment(data, maintype="text", subtype="csv", filename=name)
    return msg


def to_webhook(alert: Alert) -> dict:
    """A Teams/Slack-compatible payload: the summary as ``text``, and the same facts structured under ``yos``."""
    return {"text": f"{alert.subject}\n\n{alert.text}", "yos": {"run_id": alert.run_id, "partner": alert.partner.id,
                                                                "problems": alert.problem_count}}  # fmt: skip


def send_email(cfg: Config, msg: EmailMessage, attempts: int = 3, backoff: float = 1.0) -> tuple[bool, int, str | None]:
    smtp = cfg.smtp
    error = None
    for attempt in range(1, attempts + 1):
        try:
            with smtplib.SMTP(smtp["host"], smtp["port"], timeout=30) as s:
                if smtp.get("starttls"):
                    s.starttls()
                if smtp.get("username"):
                    s.login(str(smtp["username"]), secret_ref(smtp["password"]).resolve())
                s.send_message(msg)
            return True, attempt, None
        except (OSError, smtplib.SMTPException) as e:
            error = f"{type(e).__name__}: {e}"
            if attempt < attempts:
                time.sleep(backoff * attempt)
    return False, attempts, error


def send_webhook(url: str, payload: dict, attempts: int = 3, backoff: float = 1.0) -> tuple[bool, int, str | None]:
    error = None
    for attempt in range(1, attempts + 1):
        try:
            r = httpx.post(url, json=payload, timeout=30)
            if r.status_code < 300:
                return True, attempt, None
            error = f"HTTP {r.status_code}"
            if r.status_code < 500 and r.status_code != 429:
                return False, attempt, error  # the receiver refused it: retrying will not help
        except httpx.HTTPError as e:
            error = type(e).__name__  # never the URL: it is a secret
        if attempt < attempts:
            time.sleep(backoff * attempt)
    return False, attempts, error


def _record(con: duckdb.DuckDBPyConnection, run_id: str, partner: str, channel: str, recipient: str, ok: bool,
            attempts: int, problems: int, error: str | None, copy: Path) -> dict:  # fmt: skip
    status = "sent" if ok else "failed"
    con.execute(
        "insert into audit.alerts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, partner, channel, recipient, dt.datetime.now(dt.UTC), status, attempts, problems, error, str(copy)],
    )
    return {"partner": partner, "channel": channel, "recipient": recipient, "status": status, "copy": str(copy),
            "error": error}  # fmt: skip


def _webhook_url(contact: Contact) -> str | None:
    try:
        return contact.webhook.resolve() if contact.webhook else None
    except ConfigError:
        return None  # an optional webhook that is not configured on this machine


def deliver(con: duckdb.DuckDBPyConnection, cfg: Config, alert: Alert, outbox: Path) -> list[dict]:
    """Send ``alert`` to each of its partner's contacts; returns one record per delivery."""
    run_dir = outbox / alert.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for contact in alert.partner.contacts:
        if contact.email:
            msg = to_email(cfg, alert, contact.email)
            copy = run_dir / f"{alert.partner.id}--{contact.email.replace('@', '_at_')}.eml"
            copy.write_bytes(bytes(msg))
            ok, attempts, error = send_email(cfg, msg)
            records.append(_record(con, alert.run_id, alert.partner.id, "email", contact.email, ok, attempts,
                                   alert.problem_count, error, copy))  # fmt: skip
        url = _webhook_url(contact)
        if url:
            payload = to_webhook(alert)
            copy = run_dir / f"{alert.partner.id}--webhook-{contact.name.replace(' ', '_')}.json"
            copy.write_text(json.dumps(payload))
            ok, attempts, error = send_webhook(url, payload)
            records.append(_record(con, alert.run_id, alert.partner.id, "webhook", f"webhook:{contact.name}", ok,
                                   attempts, alert.problem_count, error, copy))  # fmt: skip
    return records


def resend_failed(con: duckdb.DuckDBPyConnection, cfg: Config) -> list[dict]:
    """Try again every delivery whose last attempt failed, from its outbox copy."""
    failed = con.execute(
        """select run_id, partner, channel, recipient, problems, copy_path from audit.alerts
           qualify row_number() over (partition by run_id, partner, channel, recipient order by sent_at desc) = 1
               and status = 'failed'"""
    ).fetchall()
    records = []
    for run_id, partner, channel, recipient, count, copy in failed:
        path = Path(copy)
        if channel == "email":
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            ok, attempts, error = send_email(cfg, msg)  # type: ignore[arg-type]
        else:
            name = recipient.removeprefix("webhook:")
            contact = next((c for c in cfg.partners[partner].contacts if c.name == name), None)
            url = _webhook_url(contact) if contact else None
            if url is None:
                continue
            ok, attempts, error = send_webhook(url, json.loads(path.read_text()))
        records.append(_record(con, run_id, partner, channel, recipient, ok, attempts, count, error, path))
    return records


def escalation_email(cfg: Config, persistent: list[tuple]) -> EmailMessage:
    """To the YOS data lead: problems a partner has not fixed after the configured number of extracts."""
    msg = EmailMessage()
    msg["From"] = cfg.alert_from
    msg["To"] = cfg.yos_data_lead.email
    msg["Subject"] = f"[{cfg.name}] Escalation: {len(persistent)} data problem(s) not fixed by partners"
    lines = [
        f"These problems have been reported to the partner for {cfg.escalate_after_extracts} or more extracts "
        "and are still failing:",
        "",
    ]
    for partner, feed, rule, column, opened, seen, rows in persistent:
        where = f" (column {column})" if column else ""
        lines.append(
            f"- {partner}/{feed}: {rule}{where}, failing since {opened:%d %B %Y}, in {seen} extracts; "
            f"{rows} rows in the latest"
        )
    lines += ["", "See quarantine.problems in the loader warehouse, and audit.partner_scorecard."]
    msg.set_content("\n".join(lines))
    return msg
