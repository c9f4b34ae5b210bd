"""Delivering alerts: by email (SMTP; STARTTLS and login configurable) and by webhook (JSON over httpx, with a
``text`` field that Teams and Slack incoming webhooks display). Each delivery is tried a few times, recorded in
``audit.alerts`` and kept under ``<data>/outbox/<run>/`` as sent; one that still fails is resent by the next run
(:func:`resend_failed`). Nothing is lost silently. Webhook URLs are secrets: they are never logged or recorded."""

from __future__ import annotations

import email
import email.policy
import json
import smtplib
from email.message import EmailMessage
from pathlib import Path

import duckdb
import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_incrementing

from partnership.config import Config, ConfigError, Contact, secret_ref
from partnership.settings import paths
from reports.alert import Alert
from warehouse import audit, problems, retention


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


def _retrying(attempts: int, backoff: float, retry_on: tuple[type[Exception], ...]) -> Retrying:
    """At most ``attempts`` tries, after ``retry_on`` only, waiting ``backoff`` seconds after the first, twice that
    after the second, and so on."""
    return Retrying(
        retry=retry_if_exception_type(retry_on),
        stop=stop_after_attempt(attempts),
        wait=wait_incrementing(start=backoff, increment=backoff),
        reraise=True,
    )


def send_email(cfg: Config, msg: EmailMessage, attempts: int = 3, backoff: float = 1.0) -> tuple[bool, int, str | None]:
    """Send ``msg`` by the configured SMTP server; returns whether it went, after how many attempts, and why not."""
    smtp = cfg.smtp
    try:
        for attempt in _retrying(attempts, backoff, (OSError, smtplib.SMTPException)):
            with attempt, smtplib.SMTP(smtp["host"], smtp["port"], timeout=30) as s:
                if smtp.get("starttls"):
                    s.starttls()
                if smtp.get("username"):
                    s.login(str(smtp["username"]), secret_ref(smtp["password"]).resolve())
                s.send_message(msg)
                return True, attempt.retry_state.attempt_number, None
    except (OSError, smtplib.SMTPException) as e:
        return False, attempts, f"{type(e).__name__}: {e}"
    raise AssertionError("unreachable: an attempt returns or raises")


class _Unavailable(Exception):
    """The webhook's receiver answered 429 or 5xx: worth another try."""


def send_webhook(url: str, payload: dict, attempts: int = 3, backoff: float = 1.0) -> tuple[bool, int, str | None]:
    """POST ``payload`` to ``url`` (a secret: never logged or returned); returns whether it went, after how many
    attempts, and why not. A refusal (4xx but 429) is not retried: retrying will not help."""
    try:
        for attempt in _retrying(attempts, backoff, (httpx.HTTPError, _Unavailable)):
            with attempt:
                r = httpx.post(url, json=payload, timeout=30)
                if r.status_code < 300:
                    return True, attempt.retry_state.attempt_number, None
                if r.status_code >= 500 or r.status_code == 429:
                    raise _Unavailable(f"HTTP {r.status_code}")
                return False, attempt.retry_state.attempt_number, f"HTTP {r.status_code}"
    except _Unavailable as e:
        return False, attempts, str(e)
    except httpx.HTTPError as e:
        return False, attempts, type(e).__name__  # never the URL: it is a secret
    raise AssertionError("unreachable: an attempt returns or raises")


def record(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    partner: str,
    channel: str,
    recipient: str,
    sent: tuple[bool, int, str | None],
    problems: int,
    copy: Path,
    resent: bool = False,
) -> dict:
    """Record one delivery (``sent``: what :func:`send_email` or :func:`send_webhook` returned) in ``audit.alerts``;
    returns its summary for the caller: ``run_id`` is the run the alert was composed in, ``resent`` says it is an
    earlier run's alert tried again, ``error`` why it was not delivered."""
    ok, attempts, error = sent
    audit.record_alert(
        con, run_id=run_id, partner=partner, channel=channel, recipient=recipient, sent=ok, attempts=attempts,
        problems=problems, error=error, copy=copy,
    )  # fmt: skip
    return {"run_id": run_id, "partner": partner, "channel": channel, "recipient": recipient,
            "status": "sent" if ok else "failed", "copy": str(copy), "error": error, "resent": resent}  # fmt: skip


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
            records.append(record(con, alert.run_id, alert.partner.id, "email", contact.email, send_email(cfg, msg),
                                  alert.problem_count, copy))  # fmt: skip
        url = _webhook_url(contact)
        if url:
            payload = to_webhook(alert)
            copy = run_dir / f"{alert.partner.id}--webhook-{contact.name.replace(' ', '_')}.json"
            copy.write_text(json.dumps(payload))
            records.append(record(con, alert.run_id, alert.partner.id, "webhook", f"webhook:{contact.name}",
                                  send_webhook(url, payload), alert.problem_count, copy))  # fmt: skip
    return records


def resend_failed(con: duckdb.DuckDBPyConnection, cfg: Config, outbox: Path | None = None) -> list[dict]:
    """Try again every delivery whose last attempt failed, from its outbox copy; then delete the copies older than
    ``alerts.outbox_retention_days`` (a copy still awaiting resend is kept) from ``outbox`` (default
    ``<data>/outbox``)."""
    records = _resend(con, cfg)
    retention.prune_outbox(con, outbox or paths().outbox, cfg.outbox_retention_days)
    return records


def _resend(con: duckdb.DuckDBPyConnection, cfg: Config) -> list[dict]:
    records = []
    for failed in audit.failed_deliveries(con):
        if failed.channel == "email":
            msg = email.message_from_bytes(failed.copy.read_bytes(), policy=email.policy.default)
            sent = send_email(cfg, msg)  # type: ignore[arg-type]
        else:
            name = failed.recipient.removeprefix("webhook:")
            contact = next((c for c in cfg.partners[failed.partner].contacts if c.name == name), None)
            url = _webhook_url(contact) if contact else None
            if url is None:
                continue
            sent = send_webhook(url, json.loads(failed.copy.read_text()))
        records.append(record(con, failed.run_id, failed.partner, failed.channel, failed.recipient, sent,
                              failed.problems, failed.copy, resent=True))  # fmt: skip
    return records


def escalation_email(cfg: Config, persistent: list[tuple]) -> EmailMessage:
    """To the YOS data lead: problems a partner has not fixed after the configured number of extracts, and those
    escalated at once (a snapshot held back as cut short)."""
    msg = EmailMessage()
    msg["From"] = cfg.alert_from
    msg["To"] = cfg.yos_data_lead.email
    msg["Subject"] = f"[{cfg.name}] Escalation: {len(persistent)} data problem(s) not fixed by partners"
    at_once = [p for p in persistent if p[2] in problems.ESCALATED_AT_ONCE]
    lasting = [p for p in persistent if p[2] not in problems.ESCALATED_AT_ONCE]
    lines: list[str] = []
    if at_once:
        lines += ["These extracts were held back and need you now (the partner has been told too):", ""]
        lines += [
            f"- {partner}/{feed}: {rule}, since {opened:%d %B %Y}" for partner, feed, rule, _, opened, _, _ in at_once
        ]
        lines.append("")
    if lasting:
        lines += [
            f"These problems have been reported to the partner for {cfg.escalate_after_extracts} or more extracts "
            "and are still failing:",
            "",
        ]
    for partner, feed, rule, column, opened, seen, rows in lasting:
        where = f" (column {column})" if column else ""
        lines.append(
            f"- {partner}/{feed}: {rule}{where}, failing since {opened:%d %B %Y}, in {seen} extracts; "
            f"{rows} rows in the latest"
        )
    lines += ["", "See quarantine.problems in the loader warehouse, and audit.partner_scorecard."]
    msg.set_content("\n".join(lines))
    return msg
