"""Late-extract notices: a reminder to the partner that an extract is overdue, and an escalation to the YOS data
lead when a feed has missed two due times in a row. Plain words; no data, since none arrived."""

from __future__ import annotations

from email.message import EmailMessage

from notify.calendar import LONDON, Notice
from partnership.config import Config
from reports.alert import contract_document, contract_name


def _when(t: object) -> str:
    return t.astimezone(LONDON).strftime("%A %d %B %Y, %H:%M") if t else "never"  # type: ignore[attr-defined]


def compose(cfg: Config, notice: Notice, recipient: str) -> EmailMessage:
    partner = cfg.partners[notice.partner]
    msg = EmailMessage()
    msg["From"] = cfg.alert_from
    msg["To"] = recipient
    if notice.kind == "reminder":
        msg["Subject"] = f"[{cfg.name}] Reminder: your {notice.feed} extract is overdue"
        body = (
            f"Dear {partner.name},\n\n"
            f"Your {notice.feed} extract was due by {_when(notice.due_at)} and has not arrived.\n"
            f"The last one we received arrived {_when(notice.last_received_at)}.\n\n"
            "Please send it as usual (to your endpoint or the intake folder). If there is nothing to report, a nil "
            "return (the header row alone) is on time; no file is not.\n"
            f"Contract: {contract_name(notice.feed)}, attached\n\n"
            f"This is the only reminder for this due date. Questions: {cfg.yos_data_lead.name} "
            f"<{cfg.yos_data_lead.email}>\n"
        )
    else:
        msg["Subject"] = f"[{cfg.name}] Escalation: {partner.name} has missed {notice.feed} twice in a row"
        body = (
            f"{partner.name} has not sent {notice.feed} for the due times {_when(notice.previous_due_at)} and "
            f"{_when(notice.due_at)}; a reminder went to them for each.\n"
            f"The last extract arrived {_when(notice.last_received_at)}.\n\n"
            "Until it arrives, every view built on this feed is out of date: see audit.loads and audit.reminders.\n"
        )
    msg.set_content(body)
    if notice.kind == "reminder":  # the partner has no repository: the contract itself goes with the reminder
        msg.add_attachment(contract_document(notice.feed), maintype="text", subtype="markdown",
                           filename=contract_name(notice.feed))  # fmt: skip
    return msg
