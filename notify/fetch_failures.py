"""Telling people when a partner's extracts could not be fetched (a refused credential, a moved endpoint, a service
down after every retry): the partner's data lead, whose to fix an expired token or a moved endpoint, and the YOS data
lead. Once per failure episode, not per retry or per night: when it starts, a reminder (to the partner) and an
escalation (to the YOS data lead) every ``alerts.escalate_after_extracts`` nights while it persists, and a note when
it is fixed. A credential missing on this server is the YOS side's to fix: only the YOS data lead hears of it.

Each delivery is recorded in ``audit.alerts`` and kept in the outbox like any alert (so one that fails is resent by
the next run). The episodes in progress are kept in ``audit.fetch_failure_episodes``. Never a secret: a
credential is named by where it is configured, never by its value, and the partner's mail does not even say that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import duckdb

from notify.send import record, send_email
from partnership.config import Config, Partner
from partnership.logs import feed_logger
from warehouse import audit


@dataclass(frozen=True)
class Failure:
    """One feed that could not be fetched tonight: ``kind`` (credential, not_found, unavailable, too_slow, refused,
    no_credential), what the YOS side needs to know (``detail``, secret-free), and HTTP ``status`` when there was one.
    """

    partner: str
    feed: str | None
    kind: str
    detail: str
    status: int | None = None


def classify(error: Exception) -> Failure:
    """A :class:`partners.http.FetchError` (``partner``, ``feed``, ``transient``, ``status``) as a :class:`Failure`."""
    status = getattr(error, "status", None)
    text = str(error)
    if status in (401, 403) or "refused the credential" in text:
        kind = "credential"
    elif status in (404, 410):
        kind = "not_found"
    elif "deadline" in text:
        kind = "too_slow"
    elif getattr(error, "transient", False):
        kind = "unavailable"
    else:
        kind = "refused"
    return Failure(getattr(error, "partner", None) or "", getattr(error, "feed", None), kind, text, status)


# What the partner reads: what happened and how to fix it, in its terms (nothing of our configuration).
PARTNER_TEXT = {
    "credential": (
        "Your endpoint refused our access credential (HTTP {status}).",
        "If the token or certificate you issued us has expired or been revoked, please issue a new one and send it "
        "to the YOS data lead by your usual secure route (never by email); we will put it in place the same day.",
    ),
    "not_found": (
        "Your endpoint answered that the extract is not there (HTTP {status}).",
        "If the extract has moved, please tell the YOS data lead its new address; if it was withdrawn, please put "
        "it back.",
    ),
    "unavailable": (
        "Your service did not answer usefully after every retry ({detail}).",
        "Please check that the service publishing the extract is running and reachable from our address; we will "
        "keep trying each night.",
    ),
    "too_slow": (
        "Your service sent the extract so slowly that the transfer did not finish within our deadline.",
        "Please check the service's performance or network path; we will keep trying each night.",
    ),
    "refused": (
        "What your endpoint sent could not be accepted: {detail}.",
        "Please see the extract's contract (attached to our data-quality reports) or ask the YOS data lead.",
    ),
}


def _partner_line(f: Failure) -> tuple[str, str]:
    what, fix = PARTNER_TEXT.get(f.kind, PARTNER_TEXT["refused"])
    detail = f.detail.split(": ", 1)[-1]  # without the partner/feed prefix
    detail = detail.split("; check ", 1)[0]  # where we keep the credential is ours, not the partner's business
    return what.format(status=f.status or "", detail=detail), fix


def _message(cfg: Config, recipient: str, subject: str, lines: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = cfg.alert_from
    msg["To"] = recipient
    msg["Subject"] = f"[{cfg.name}] {subject}"
    msg.set_content("\n".join(lines) + "\n")
    return msg


def _for_partner(
    cfg: Config, partner: Partner, episode: dict, failures: list[Failure], notice: str
) -> tuple[str, list[str]]:
    since = episode["since"].astimezone(dt.UTC)
    feeds = ", ".join(sorted({f.feed for f in failures if f.feed}))
    if notice == "fixed":
        return f"Your extracts are reaching us again: {episode['feeds']}", [
            f"Dear {partner.name} data lead,",
            "",
            f"Since {since:%d %B %Y %H:%M} UTC we could not fetch your extracts ({episode['feeds']}). Tonight's pull "
            "succeeded: thank you for putting it right. Nothing else is needed.",
            "",
            f"{cfg.yos_data_lead.name} <{cfg.yos_data_lead.email}>",
        ]
    subject = ("Reminder: " if notice == "reminder" else "") + f"We could not fetch your extracts: {feeds}"
    lines = [
        f"Dear {partner.name} data lead,",
        "",
        f"Since {since:%d %B %Y %H:%M} UTC ({episode['nights']} night{'s' if episode['nights'] != 1 else ''}), the "
        f"{cfg.name}'s nightly pull could not fetch these extracts from you:",
        "",
    ]
    for f in failures:
        what, fix = _partner_line(f)
        lines += [f"- {f.feed or 'every feed'}: {what}", f"  How to fix it: {fix}"]
    lines += [
        "",
        "Until it is fixed the partnership keeps using your last extract we received. We will write once more when "
        "it works again, and remind you if it persists.",
        "",
        f"Questions: {cfg.yos_data_lead.name} <{cfg.yos_data_lead.email}>",
    ]
    return subject, lines


def _for_lead(
    cfg: Config, partner: Partner, episode: dict, failures: list[Failure], notice: str
) -> tuple[str, list[str]]:
    since = episode["since"].astimezone(dt.UTC)
    if notice == "fixed":
        return f"Fetching from {partner.id} works again", [
            f"Tonight's pull from {partner.name} ({partner.id}) succeeded; it had failed since "
            f"{since:%d %B %Y %H:%M} UTC ({episode['feeds']}).",
        ]
    subject = {"start": "Could not fetch", "reminder": "Escalation: still cannot fetch"}[notice]
    lines = [
        f"The nightly pull could not fetch from {partner.name} ({partner.id}) since {since:%d %B %Y %H:%M} UTC "
        f"({episode['nights']} night{'s' if episode['nights'] != 1 else ''}):",
        "",
    ]
    lines += [f"- {f.detail}" for f in failures]
    told = [c.email for c in partner.contacts if c.email]
    lines += [
        "",
        (
            "The partner's data lead has been told (" + ", ".join(told) + ")."
            if episode.get("partner_told")
            else "The partner has not been told: the credential is missing on this server, ours to fix (see "
            "config/partnership.yml and the service's environment)."
        ),
        "Each feed's pulls are in audit.fetches; `yos status` shows what is still failing.",
    ]
    return f"{subject} {partner.id}: {len({f.feed for f in failures})} feed(s)", lines


def notify_fetch_failures(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    outbox: Path,
    run_id: str,
    failures: list[Exception],
    no_credential: dict[str, str],
    attempted: list[str],
    now: dt.datetime | None = None,
) -> list[dict]:
    """Tell the partners and the YOS data lead about tonight's fetch failures (``failures``: the
    :class:`partners.http.FetchError` raised; ``no_credential``: partner -> what is missing; ``attempted``: every
    partner whose feeds were asked for, so that one that failed before and works now gets its "fixed" note). Once per
    episode, a reminder every ``escalate_after_extracts`` nights, and a note when fixed; returns the deliveries."""
    now = now or dt.datetime.now(dt.UTC)
    state = audit.fetch_failure_episodes(con)
    tonight: dict[str, list[Failure]] = {}
    for e in failures:
        f = classify(e)
        tonight.setdefault(f.partner, []).append(f)
    for pid, missing in no_credential.items():
        tonight[pid] = [Failure(pid, None, "no_credential", f"{pid}: {missing}")]
    sent: list[dict] = []
    for pid in sorted(set(tonight) | {p for p in attempted if p in state}):
        partner = cfg.partners.get(pid)
        if partner is None:
            continue
        episode = state.get(pid)
        found = tonight.get(pid)
        if not found:  # attempted tonight and every feed came: the episode is over
            if episode:
                sent += _send(con, cfg, outbox, run_id, partner, episode, [], "fixed")
                audit.end_fetch_failure_episode(con, pid)
            continue
        feeds = ", ".join(sorted({f.feed for f in found if f.feed})) or "every feed"
        partner_told = any(f.kind != "no_credential" for f in found)
        if episode is None:
            episode = {"since": now, "nights": 1, "last_night": now.date(),
                       "noticed_night": 1, "feeds": feeds, "partner_told": partner_told}  # fmt: skip
            state[pid] = episode
            notice = "start"
        else:
            if episode["last_night"] != now.date():
                episode["nights"] += 1
                episode["last_night"] = now.date()
            episode["feeds"] = feeds
            due = episode["nights"] - episode["noticed_night"] >= max(cfg.escalate_after_extracts, 1)
            if partner_told and not episode.get("partner_told"):  # the credential is back but the partner refuses it
                episode["partner_told"], notice = True, "start"
            elif due:
                notice = "reminder"
            else:
                feed_logger(pid).info("fetching still fails (%s night(s)); already told", episode["nights"])
                audit.save_fetch_failure_episode(con, pid, episode)
                continue
            episode["noticed_night"] = episode["nights"]
        audit.save_fetch_failure_episode(con, pid, episode)
        sent += _send(con, cfg, outbox, run_id, partner, episode, found, notice)
    return sent


def _send(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    outbox: Path,
    run_id: str,
    partner: Partner,
    episode: dict,
    found: list[Failure],
    notice: str,
) -> list[dict]:
    run_dir = outbox / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    problems = len({f.feed for f in found}) if found else 0
    mails = []
    if episode.get("partner_told") and (notice == "fixed" or any(f.kind != "no_credential" for f in found)):
        subject, lines = _for_partner(cfg, partner, episode, [f for f in found if f.kind != "no_credential"], notice)
        mails += [(partner.id, c.email, subject, lines) for c in partner.contacts if c.email]
    subject, lines = _for_lead(cfg, partner, episode, found, notice)
    mails.append(("yos_data_lead", cfg.yos_data_lead.email, subject, lines))
    records = []
    for who, recipient, subject, lines in mails:
        msg = _message(cfg, recipient, subject, lines)
        copy = run_dir / f"fetch-{notice}--{partner.id}--{recipient.replace('@', '_at_')}.eml"
        copy.write_bytes(bytes(msg))
        delivery = send_email(cfg, msg)
        feed_logger(partner.id).info(
            "fetch failure %s to %s: %s", notice, recipient, "sent" if delivery[0] else "kept in outbox to resend"
        )
        records.append(
            {**record(con, run_id, who, "email", recipient, delivery, problems, copy), "kind": f"fetch_{notice}"}
        )
    return records
