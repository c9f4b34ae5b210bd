"""A feed that cannot be fetched tells someone: the partner's data lead (an expired token or a moved endpoint is
theirs to fix) and the YOS data lead, once per failure episode (not per retry, not every night), a reminder and an
escalation if it persists, and a note when it is fixed. Through the real nightly flow (a real Prefect API), a real
partner server refusing the token, and a real SMTP server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from notify.fetch_failures import notify_fetch_failures
from partners.http import FetchError, RetryPolicy, fetch
from sandbox.mailcatcher import MailCatcher
from sandbox.partner_server import serve
from tests.helpers import PARTNER_TOKENS, TOKENS

YOS = str(Path(sys.executable).with_name("yos"))
PARTNER, LEAD = "data-lead@police.example", "yos-data-lead@derby.example"


def night(prefect_api: str, data: Path, server, smtp_port: int) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {**os.environ, **TOKENS, "YOS_DATA_DIR": str(data), "PREFECT_API_URL": prefect_api,
           "YOS_PARTNERS_URL": server.url, "YOS_SMTP_HOST": "127.0.0.1", "YOS_SMTP_PORT": str(smtp_port),
           "YOS_PSEUDONYM_KEY": "k"}  # fmt: skip
    return subprocess.run([YOS, "run", "nightly", "--partner", "police"], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip


def fetch_mails(catcher: MailCatcher) -> list[EmailMessage]:
    return [m for m in catcher.messages() if "fetch" in m["Subject"].lower() or "reaching us again" in m["Subject"]]


def test_a_refused_token_tells_the_partner_and_the_data_lead_once_then_when_fixed(
    prefect_api: str, partnership: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    refusing = serve(partnership, {**PARTNER_TOKENS, "police": "a-token-we-no-longer-hold"})
    with MailCatcher(tmp_path / "mail") as catcher:
        try:
            first = night(prefect_api, data, refusing, catcher.port)
            assert first.returncode == 1, first.stdout + first.stderr
            mails = fetch_mails(catcher)
            assert sorted(m["To"] for m in mails) == [PARTNER, LEAD]
            to_partner = next(m for m in mails if m["To"] == PARTNER).get_content()
            assert "We could not fetch your extracts" in next(m for m in mails if m["To"] == PARTNER)["Subject"]
            for feed in ("police_outcomes", "cic_police_incidents", "custody_transfers"):
                assert feed in to_partner
            assert "refused our access credential (HTTP 401)" in to_partner and "How to fix it" in to_partner
            assert "tp" not in to_partner.split() and "YOS_TOKEN_POLICE" not in to_partner  # nothing of our secrets
            to_lead = next(m for m in mails if m["To"] == LEAD).get_content()
            assert "check environment variable YOS_TOKEN_POLICE" in to_lead and "tp" not in to_lead.split()

            second = night(prefect_api, data, refusing, catcher.port)  # the same failure the next night
            assert second.returncode == 1
            assert len(fetch_mails(catcher)) == 2  # nothing new: they know
        finally:
            refusing.shutdown()
        working = serve(partnership, PARTNER_TOKENS)  # the partner issued a new token: it works again
        try:
            third = night(prefect_api, data, working, catcher.port)
        finally:
            working.shutdown()
        assert third.returncode == 0, third.stdout + third.stderr
        fixed = fetch_mails(catcher)[2:]
        assert sorted(m["To"] for m in fixed) == [PARTNER, LEAD]
        assert all("again" in m["Subject"] for m in fixed)
    from warehouse.db import connect_loader

    con = connect_loader(data / "warehouse" / "loader.duckdb")
    try:
        recorded = con.execute("select recipient, status from audit.alerts order by sent_at").fetchall()
    finally:
        con.close()
    assert recorded.count((PARTNER, "sent")) == 2 and recorded.count((LEAD, "sent")) == 2


def test_a_moved_endpoint_is_the_partners_to_fix_and_a_persistent_one_is_escalated(
    pipeline, partnership: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOS_TOKEN_POLICE", "t")
    server = serve(partnership, {"moved": "t"})  # the police extracts are no longer where we ask: 404
    police = dataclasses.replace(pipeline.cfg.partners["police"], base_url=server.url + "/moved")
    start = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    with MailCatcher(tmp_path / "mail") as catcher:
        cfg = dataclasses.replace(pipeline.cfg, smtp={"host": "127.0.0.1", "port": catcher.port},
                                  partners={**pipeline.cfg.partners, "police": police})  # fmt: skip
        try:
            for n in range(5):  # five nights of the same 404; escalate_after_extracts is 3
                failures = []
                try:
                    fetch(pipeline.con, pipeline.paths.data, police, "police_outcomes", policy=RetryPolicy(attempts=2))
                except FetchError as e:
                    failures.append(e)
                assert failures and failures[0].status == 404
                notify_fetch_failures(pipeline.con, cfg, pipeline.paths.outbox, f"night-{n}",
                                      failures, {}, ["police"], now=start + dt.timedelta(days=n))  # fmt: skip
        finally:
            server.shutdown()
        mails = catcher.messages()
    assert [(m["To"], m["Subject"].split("] ", 1)[1]) for m in mails] == [
        (PARTNER, "We could not fetch your extracts: police_outcomes"),
        (LEAD, "Could not fetch police: 1 feed(s)"),
        (PARTNER, "Reminder: We could not fetch your extracts: police_outcomes"),  # the fourth night
        (LEAD, "Escalation: still cannot fetch police: 1 feed(s)"),
    ]
    first = mails[0].get_content()
    assert "not there (HTTP 404)" in first and "tell the YOS data lead its new address" in first
    assert "4 nights" in mails[2].get_content()
