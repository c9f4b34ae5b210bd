"""The data-quality loop with partners: problems tracked across extracts (new, still failing, fixed), escalation,
email through a real SMTP server, Teams/Slack-style webhooks to a real HTTP receiver, and failed deliveries resent."""

from __future__ import annotations

import dataclasses
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.steps import Pipeline
from partnership.config import Contact, SecretRef
from sandbox.mailcatcher import MailCatcher
from tests.helpers import write_extract


class Receiver(ThreadingHTTPServer):
    def __init__(self, status: int = 200) -> None:
        self.received: list[dict] = []
        self.status = status

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_POST(inner) -> None:  # noqa: N802, N805
                body = inner.rfile.read(int(inner.headers["Content-Length"]))
                self.received.append(json.loads(body))
                inner.send_response(self.status)
                inner.send_header("Content-Length", "0")
                inner.end_headers()

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook/secret-part"


@pytest.fixture
def mail(tmp_path: Path, pipeline: Pipeline):  # noqa: ANN201
    with MailCatcher(tmp_path / "mail") as catcher:
        pipeline.cfg = dataclasses.replace(pipeline.cfg, smtp={"host": "127.0.0.1", "port": catcher.port})
        yield catcher


def run(p: Pipeline, tmp: Path, name: str, rows: list[dict]) -> list[dict]:
    r = p.load(p.land_file("police_outcomes", write_extract(tmp / name, "police_outcomes", rows)))
    return p.alert(f"run-{name}", [r])


def police_text(catcher: MailCatcher, n: int) -> str:
    msgs = [m for m in catcher.messages() if m["To"] == "data-lead@police.example"]
    return msgs[n].get_body(("plain",)).get_content()


def test_a_problem_is_new_then_still_failing_then_fixed(pipeline: Pipeline, tmp_path: Path, mail) -> None:
    run(pipeline, tmp_path, "one.csv", [{"outcome_id": "A", "sex": "X"}, {"outcome_id": "B", "weapon": "axe"}])
    assert "[police_outcomes.sex.codes, error, new]" in police_text(mail, 0)
    run(pipeline, tmp_path, "two.csv", [{"outcome_id": "C", "sex": "X"}])
    second = police_text(mail, 1)
    assert "[police_outcomes.sex.codes, error, still failing since" in second and "(2 extracts)" in second
    assert "FIXED: police_outcomes police_outcomes.weapon.codes" in second
    run(pipeline, tmp_path, "three.csv", [{"outcome_id": "D"}])
    third = police_text(mail, 2)
    assert "FIXED: police_outcomes police_outcomes.sex.codes" in third
    assert pipeline.con.execute(
        "select rule_id, extracts_seen, closed_load is not null from quarantine.problems order by opened_load, rule_id"
    ).fetchall() == [("police_outcomes.sex.codes", 2, True), ("police_outcomes.weapon.codes", 1, True)]


def test_a_problem_that_persists_is_escalated_once(pipeline: Pipeline, tmp_path: Path, mail) -> None:
    for n in range(4):
        run(pipeline, tmp_path, f"{n}.csv", [{"outcome_id": f"A{n}", "sex": "X"}])
    lead = [m for m in mail.messages() if m["To"] == "yos-data-lead@derby.example"]
    assert len(lead) == 1 and "police/police_outcomes: police_outcomes.sex.codes" in lead[0].get_content()


def test_a_100_percent_bad_extract_loads_nothing_and_says_why(pipeline: Pipeline, tmp_path: Path, mail) -> None:
    rows = [{"outcome_id": f"A{n}", "offence_date": "31/01/2024"} for n in range(50)]
    r = pipeline.load(
        pipeline.land_file("police_outcomes", write_extract(tmp_path / "bad.csv", "police_outcomes", rows))
    )
    assert (r.rows_received, r.rows_loaded, r.rows_quarantined) == (50, 0, 50)
    pipeline.alert("run", [r])
    msg = next(m for m in mail.messages() if m["To"] == "data-lead@police.example")
    (attachment,) = msg.iter_attachments()
    assert attachment.get_content().count("police_outcomes.offence_date.type") == 50
    assert "Write offence_date as a date written YYYY-MM-DD" in msg.get_body(("plain",)).get_content()


def test_an_alert_lists_a_bounded_number_of_problems_and_says_how_many_more(
    pipeline: Pipeline, tmp_path: Path, mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A national-size extract with a systematic fault once made an alert too large for mail servers to accept.
    import reports.alert as compose

    monkeypatch.setattr(compose, "ATTACHED_PROBLEMS", 20)
    rows = [{"outcome_id": f"A{n}", "offence_date": "31/01/2024"} for n in range(50)]
    r = pipeline.load(
        pipeline.land_file("police_outcomes", write_extract(tmp_path / "bad.csv", "police_outcomes", rows))
    )
    total = pipeline.con.execute(
        "select count(*) from quarantine.row_problems where load_id = ?", [r.load_id]
    ).fetchone()[0]
    assert total > 20
    pipeline.alert("run", [r])
    msg = next(m for m in mail.messages() if m["To"] == "data-lead@police.example")
    (attachment,) = msg.iter_attachments()
    lines = attachment.get_content().strip().splitlines()
    assert len(lines) == 1 + 20 and lines[1].startswith("2,")  # header, then the first problems by line
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    assert f"police_outcomes_failing_rows.csv lists the first 20 of {total:,} problems" in text


def test_webhooks_reach_a_real_receiver_and_never_log_their_url(
    pipeline: Pipeline, tmp_path: Path, mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = Receiver()
    monkeypatch.setenv("YOS_TEST_WEBHOOK", receiver.url)
    police = pipeline.cfg.partners["police"]
    hooked = dataclasses.replace(
        police, contacts=(*police.contacts, Contact("Police channel", webhook=SecretRef(env="YOS_TEST_WEBHOOK")))
    )
    pipeline.cfg = dataclasses.replace(pipeline.cfg, partners={**pipeline.cfg.partners, "police": hooked})
    sent = run(pipeline, tmp_path, "one.csv", [{"outcome_id": "A", "sex": "X"}])
    (payload,) = receiver.received
    assert "police_outcomes.sex.codes" in payload["text"] and payload["yos"]["partner"] == "police"
    assert {s["channel"] for s in sent} == {"email", "webhook"}
    recorded = pipeline.con.execute("select recipient, error from audit.alerts").fetchall()
    assert "secret-part" not in str(recorded)
    receiver.shutdown()


def test_a_failed_delivery_is_recorded_kept_and_resent_next_run(
    pipeline: Pipeline, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)  # the retries' waits (tenacity sleeps by time.sleep)
    pipeline.cfg = dataclasses.replace(pipeline.cfg, smtp={"host": "127.0.0.1", "port": 9})  # nobody listens
    sent = run(pipeline, tmp_path, "one.csv", [{"outcome_id": "A", "sex": "X"}])
    assert [(s["status"], Path(s["copy"]).exists()) for s in sent] == [("failed", True)]
    with MailCatcher(tmp_path / "mail") as catcher:
        pipeline.cfg = dataclasses.replace(pipeline.cfg, smtp={"host": "127.0.0.1", "port": catcher.port})
        resent = pipeline.alert("next-run", [])
        assert [s["status"] for s in resent] == ["sent"]
        assert [m["To"] for m in catcher.messages()] == ["data-lead@police.example"]
    assert pipeline.alert("run-after", []) == []  # nothing left to resend


def test_a_row_count_far_off_the_feeds_history_is_reported_not_refused(pipeline: Pipeline, tmp_path: Path, mail):
    for n in range(3):
        run(pipeline, tmp_path, f"{n}.csv", [{"outcome_id": f"A{n}-{i}"} for i in range(20)])
    r = pipeline.load(
        pipeline.land_file(
            "police_outcomes", write_extract(tmp_path / "few.csv", "police_outcomes", [{"outcome_id": "B"}])
        )
    )
    assert r.status == "loaded" and r.rows_loaded == 1
    pipeline.alert("run-few", [r])
    text = police_text(mail, 0)
    assert "extract.row_count" in text and "median of 20" in text


def test_a_gap_between_delta_periods_is_reported(pipeline: Pipeline, tmp_path: Path) -> None:
    import datetime as dt

    for name, start, end in (
        ("jan.csv", dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
        ("mar.csv", dt.date(2024, 3, 1), dt.date(2024, 3, 31)),
    ):
        path = write_extract(tmp_path / name, "police_outcomes", [{"outcome_id": name}])
        pipeline.load(pipeline.land_file("police_outcomes", path, period=(start, end)))
    (message,) = pipeline.con.execute(
        "select message from audit.extract_problems where rule_id = 'extract.period_gap'"
    ).fetchone()
    assert "01 March 2024" in message and "31 January 2024" in message


def test_the_partner_scorecard_shows_quarantine_share_and_open_problems(pipeline: Pipeline, tmp_path: Path) -> None:
    from warehouse.db import connect_analyst

    for n, rows in enumerate(([{"outcome_id": "A"}, {"outcome_id": "B", "sex": "X"}], [{"outcome_id": "C"}])):
        pipeline.load(
            pipeline.land_file("police_outcomes", write_extract(tmp_path / f"{n}.csv", "police_outcomes", rows))
        )
    con = connect_analyst(pipeline.publish())
    (row,) = con.execute(
        "select extracts_received, rows_received, rows_quarantined, share_quarantined_pct, problems_open_at_month_end "
        "from audit.partner_scorecard where feed = 'police_outcomes'"
    ).fetchall()
    assert row == (2, 3, 1, 33.33, 0)  # the sex problem was fixed by the second extract
