"""Delivering alerts by email (SMTP, STARTTLS and login configurable). Every attempt is recorded in
``audit.alerts``, and a copy of every message is written to ``<data>/outbox/<run>/``: a delivery that fails is
retried, then recorded as failed, and never lost silently."""

from __future__ import annotations

import datetime as dt
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

import duckdb

from yos.alerts.compose import Alert
from yos.config import Config, secret_ref


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


def deliver(con: duckdb.DuckDBPyConnection, cfg: Config, alert: Alert, outbox: Path) -> list[dict]:
    """Send ``alert`` to each of its partner's contacts; returns one record per recipient."""
    run_dir = outbox / alert.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for contact in alert.partner.contacts:
        if not contact.email:
            continue
        msg = to_email(cfg, alert, contact.email)
        copy = run_dir / f"{alert.partner.id}--{contact.email.replace('@', '_at_')}.eml"
        copy.write_bytes(bytes(msg))
        ok, attempts, error = send_email(cfg, msg)
        status = "sent" if ok else "failed"
        con.execute(
            "insert into audit.alerts values (?, ?, 'email', ?, ?, ?, ?, ?, ?)",
            [
                alert.run_id,
                alert.partner.id,
                contact.email,
                dt.datetime.now(dt.UTC),
                status,
                attempts,
                alert.problem_count,
                error,
            ],
        )
        records.append(
            {
                "partner": alert.partner.id,
                "recipient": contact.email,
                "status": status,
                "copy": str(copy),
                "error": error,
            }
        )
    return records
