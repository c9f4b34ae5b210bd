"""Telling people: each partner about its extracts' problems (new, still failing, fixed), the YOS data lead about
problems that persist, and partners whose extracts are late (the expected-extract calendar). Content comes from
:mod:`reports`; delivery and its record from :mod:`notify.send`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from notify import calendar, reminders
from notify.send import deliver, escalation_email, record, resend_failed, send_email
from partnership.config import Config
from partnership.logs import feed_logger
from reports.alert import compose
from warehouse import problems


def alert_partners(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    data: Path,
    outbox: Path,
    run_id: str,
    loads: dict[str, list[int]],
) -> list[dict]:
    """Alert each partner with something to hear about (``loads``: its load ids this run, by partner); escalate
    persistent problems to the YOS data lead; resend anything an earlier run failed to deliver."""
    sent: list[dict] = resend_failed(con, cfg)
    for partner in cfg.partners.values():
        alert = compose(con, cfg, data, partner, run_id, loads.get(partner.id, []))
        if alert is None:
            continue
        records = deliver(con, cfg, alert, outbox)
        for r in records:
            feed_logger(partner.id).info(
                "alert by %s (%s) %s",
                r["channel"],
                f"{alert.problem_count} problem" + ("" if alert.problem_count == 1 else "s"),
                "delivered" if r["status"] == "sent" else "kept in outbox to resend",
            )
        sent.extend(records)
    persistent = problems.escalations(con, cfg.escalate_after_extracts)
    if persistent:
        msg = escalation_email(cfg, persistent)
        delivery = send_email(cfg, msg)
        copy = outbox / run_id / "escalation--yos_data_lead.eml"
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(bytes(msg))
        sent.append(
            record(con, run_id, "yos_data_lead", "email", cfg.yos_data_lead.email, delivery, len(persistent), copy)
        )
    return sent


def remind_late(con: duckdb.DuckDBPyConnection, cfg: Config, now: dt.datetime) -> list[dict]:
    """Send the late-extract reminders (to the partner) and escalations (to the YOS data lead) due at ``now``, once
    each; returns what was sent."""
    feeds = {f: p.id for p in cfg.partners.values() for f in p.feeds}
    sent = []
    for notice in calendar.check(con, feeds, cfg.calendar, now):
        partner = cfg.partners[notice.partner]
        recipients = (
            [c.email for c in partner.contacts if c.email] if notice.kind == "reminder" else [cfg.yos_data_lead.email]
        )
        for recipient in recipients:
            ok, _, error = send_email(cfg, reminders.compose(cfg, notice, recipient))
            calendar.record(con, notice, recipient, "sent" if ok else "failed", error)
            feed_logger(notice.partner, notice.feed).info(
                "%s for the extract due %s: %s", notice.kind, notice.due_at.isoformat(), "sent" if ok else error
            )
            sent.append(
                {
                    "partner": notice.partner,
                    "feed": notice.feed,
                    "kind": notice.kind,
                    "due_at": notice.due_at.isoformat(),
                    "recipient": recipient,
                    "sent": ok,
                }
            )
    return sent
